"""Deploying a SAM template into moto with boto3: a direct loader, not moto's CloudFormation.

moto's CloudFormation ignores what this project needs (secrets, bucket notifications, state machine
definitions from files, layers; see research/local-aws.md §6), so `Deployer` creates each resource
with the service API, in dependency order, with deterministic names (`<stack>-<LogicalId>` unless
the template names the resource), then wires event sources (S3 notifications, schedules, SNS,
SQS) once everything exists, and resolves Outputs.

Core types (functions, layers, state machines, buckets, tables, secrets, topics, queues, rules)
fail loudly; accessory types (alarms, log groups, IAM) and unsupported property details are
best-effort and end up in `Deployment.skipped` / `Deployment.warnings`. IAM policies are not
evaluated locally: every function shares one role, every state machine another.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .dispatch import Dispatcher, FunctionSpec
from .errors import TemplateError
from .intrinsics import Intrinsics, pseudo_parameters, to_text
from .template import FunctionEvent, Template, apply_globals, creation_order, load_yaml, resolve_parameters

LAMBDA_TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
STATES_TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "states.amazonaws.com"}, "Action": "sts:AssumeRole"}]}

# Resource properties resolved later (event sources, notifications) or never (IAM policies).
_DEFERRED_PROPERTIES = {
    "AWS::Serverless::Function": ("Policies", "Events"),
    "AWS::Serverless::StateMachine": ("Policies", "Events"),
    "AWS::IAM::Role": ("Policies", "ManagedPolicyArns"),
    "AWS::S3::Bucket": ("NotificationConfiguration",),
}
_QUIET_SKIPS = {
    "AWS::Lambda::Permission": "not needed locally (invocations are not authorised)",
    "AWS::IAM::Policy": "IAM policies are not evaluated locally",
    "AWS::IAM::ManagedPolicy": "IAM policies are not evaluated locally",
    # moto would enforce a bucket policy, and judges every request insecure (aws:SecureTransport false).
    "AWS::S3::BucketPolicy": "resource policies are not evaluated locally",
    "AWS::SNS::TopicPolicy": "resource policies are not evaluated locally",
    "AWS::SQS::QueuePolicy": "resource policies are not evaluated locally",
}


@dataclass
class Deployment:
    """What a deploy produced. `resources` holds what `Ref` returns for each logical id."""

    resources: dict[str, Any] = field(default_factory=dict)
    attributes: dict[str, dict[str, Any]] = field(default_factory=dict)
    types: dict[str, str] = field(default_factory=dict)
    parameters: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    functions: dict[str, FunctionSpec] = field(default_factory=dict)  # by logical id
    rules: dict[str, str] = field(default_factory=dict)  # rule logical id -> rule name
    event_rules: dict[str, list[str]] = field(default_factory=dict)  # SAM event name -> rule logical ids
    skipped: dict[str, str] = field(default_factory=dict)  # logical id -> why
    warnings: list[str] = field(default_factory=list)


class Deployer:
    def __init__(
        self,
        template: Template,
        *,
        client: Callable[[str], Any],
        dispatcher: Dispatcher,
        stack_name: str,
        region: str,
        account_id: str,
        parameters: dict[str, Any] | None = None,
        env_overrides: dict[str, str] | None = None,
    ):
        self.template = template
        self.client = client
        self.dispatcher = dispatcher
        self.stack = stack_name
        self.region = region
        self.account = account_id
        self.env_overrides = {str(k): str(v) for k, v in (env_overrides or {}).items()}
        self.out = Deployment()
        self.out.parameters = resolve_parameters(template.section("Parameters"), parameters)
        self.intrinsics = Intrinsics(
            parameters=self.out.parameters,
            pseudo=pseudo_parameters(region, account_id, stack_name),
            mappings=template.section("Mappings"),
            conditions=template.section("Conditions"),
            ref=self._ref,
            get_att=self._get_att,
        )
        self.all_resources = apply_globals(template.resources, template.section("Globals"))
        self.active: dict[str, dict] = {}
        self._layer_dirs: dict[str, Path] = {}  # layer version ARN -> directory put on sys.path
        self._events: list[FunctionEvent] = []
        self._notifications: dict[str, dict[str, list]] = {}  # bucket -> notification configuration
        self._post: list[Callable[[], None]] = []
        self._zips: dict[Path, bytes] = {}

    # --- driver -----------------------------------------------------------------------------------

    def deploy(self) -> Deployment:
        for logical_id, resource in self.all_resources.items():
            if not isinstance(resource, dict) or "Type" not in resource:
                raise TemplateError(f"resource {logical_id} has no Type")
            condition = resource.get("Condition")
            if condition is None or self.intrinsics.condition(condition):
                self.active[logical_id] = resource
        self._create_shared_roles()
        for logical_id in creation_order(self.active):
            resource = self.active[logical_id]
            kind = resource["Type"]
            self.out.types[logical_id] = kind
            creator = self._CREATORS.get(kind)
            if creator is None:
                self._skip(logical_id, _QUIET_SKIPS.get(kind, f"{kind} is not emulated"))
                continue
            try:
                creator(self, logical_id, self._properties(logical_id, resource))
            except TemplateError:
                raise
            except Exception as exc:
                raise TemplateError(f"{logical_id} ({kind}): {exc}") from exc
        for step in self._post:
            step()
        for event in self._events:
            self._wire_event(event)
        for bucket, configuration in self._notifications.items():
            self.client("s3").put_bucket_notification_configuration(
                Bucket=bucket, NotificationConfiguration=configuration)
        self._resolve_outputs()
        return self.out

    def _properties(self, logical_id: str, resource: dict) -> dict:
        raw = resource.get("Properties") or {}
        deferred = _DEFERRED_PROPERTIES.get(resource["Type"], ())
        try:
            return self.intrinsics.resolve({k: v for k, v in raw.items() if k not in deferred})
        except TemplateError as exc:
            raise TemplateError(f"{logical_id}: {exc}") from None

    def _resolve_outputs(self) -> None:
        for name, output in self.template.section("Outputs").items():
            condition = (output or {}).get("Condition")
            if condition is not None and not self.intrinsics.condition(condition):
                continue
            try:
                self.out.outputs[name] = self.intrinsics.resolve(output["Value"])
            except TemplateError as exc:
                raise TemplateError(f"output {name}: {exc}") from None

    # --- references -------------------------------------------------------------------------------

    def _ref(self, name: str) -> Any:
        if name in self.out.resources:
            return self.out.resources[name]
        if name in self.all_resources and name not in self.active:
            raise TemplateError(f"reference to {name}, whose Condition is false")
        if name in self.active:
            raise TemplateError(f"reference to {name} before it exists (a reference inside a property "
                                "that does not order resources, such as Policies)")
        raise TemplateError(f"unresolved reference {name!r}")

    def _get_att(self, name: str, attribute: str) -> Any:
        self._ref(name)
        attributes = self.out.attributes.get(name, {})
        if attribute in attributes:
            return attributes[attribute]
        if name in self.out.skipped:
            return f"arn:aws:cloudformation:{self.region}:{self.account}:{self.stack}/{name}/{attribute}"
        raise TemplateError(f"{name} ({self.out.types.get(name)}) has no attribute {attribute!r} locally; "
                            f"known: {sorted(attributes)}")

    def _set(self, logical_id: str, ref: Any, **attributes: Any) -> None:
        self.out.resources[logical_id] = ref
        self.out.attributes[logical_id] = attributes

    def _skip(self, logical_id: str, reason: str) -> None:
        self.out.skipped[logical_id] = reason
        self._set(logical_id, self.name(logical_id, {}, "", 128))

    def _warn(self, message: str) -> None:
        self.out.warnings.append(message)

    def name(self, logical_id: str, props: dict, key: str, limit: int, lower: bool = False) -> str:
        """The template's own name for the resource, or `<stack>-<LogicalId>` made to fit `limit`."""
        if key and props.get(key):
            return str(props[key])
        name = f"{self.stack}-{logical_id}"
        if lower:
            name = name.lower()
        if len(name) > limit:
            digest = hashlib.sha1(name.encode()).hexdigest()[:8]
            name = f"{name[: limit - 9]}-{digest}"
        return name

    # --- shared roles -----------------------------------------------------------------------------

    def _create_shared_roles(self) -> None:
        iam = self.client("iam")
        self.lambda_role = iam.create_role(
            RoleName=self.name("LambdaRole", {}, "", 64),
            AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST))["Role"]
        self.states_role = iam.create_role(
            RoleName=self.name("StatesRole", {}, "", 64),
            AssumeRolePolicyDocument=json.dumps(STATES_TRUST))["Role"]
        # SAM generates `<Function>Role` / `<StateMachine>Role`; templates may reference them.
        for logical_id, resource in self.active.items():
            props = resource.get("Properties") or {}
            if resource["Type"] in ("AWS::Serverless::Function", "AWS::Serverless::StateMachine") and not props.get("Role"):
                role = self.lambda_role if resource["Type"] == "AWS::Serverless::Function" else self.states_role
                self._set(f"{logical_id}Role", role["RoleName"], Arn=role["Arn"], RoleId=role["RoleId"])

    # --- storage ----------------------------------------------------------------------------------

    def _bucket(self, logical_id: str, props: dict) -> None:
        s3 = self.client("s3")
        name = self.name(logical_id, props, "BucketName", 63, lower=True)
        kwargs: dict[str, Any] = {"Bucket": name}
        if self.region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
        s3.create_bucket(**kwargs)
        self._set(logical_id, name, Arn=f"arn:aws:s3:::{name}", DomainName=f"{name}.s3.amazonaws.com",
                  RegionalDomainName=f"{name}.s3.{self.region}.amazonaws.com", DualStackDomainName=f"{name}.s3.dualstack.{self.region}.amazonaws.com",
                  WebsiteURL=f"http://{name}.s3-website-{self.region}.amazonaws.com")
        extras = {
            "VersioningConfiguration": lambda v: s3.put_bucket_versioning(
                Bucket=name, VersioningConfiguration={"Status": v["Status"]}),
            "BucketEncryption": lambda v: s3.put_bucket_encryption(
                Bucket=name, ServerSideEncryptionConfiguration={"Rules": [_encryption_rule(r) for r in v["ServerSideEncryptionConfiguration"]]}),
            "PublicAccessBlockConfiguration": lambda v: s3.put_public_access_block(
                Bucket=name, PublicAccessBlockConfiguration=v),
            "LifecycleConfiguration": lambda v: s3.put_bucket_lifecycle_configuration(
                Bucket=name, LifecycleConfiguration={"Rules": [_lifecycle_rule(r) for r in v["Rules"]]}),
            "Tags": lambda v: s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": v}),
            "CorsConfiguration": lambda v: s3.put_bucket_cors(
                Bucket=name, CORSConfiguration={"CORSRules": [_cors_rule(r) for r in v["CorsRules"]]}),
        }
        for key, value in props.items():
            if key in extras:
                self._best_effort(f"{logical_id}.{key}", extras[key], value)
            elif key != "BucketName":
                self._warn(f"{logical_id}.{key} is not applied locally")
        raw = (self.active[logical_id].get("Properties") or {}).get("NotificationConfiguration")
        if raw:
            self._post.append(lambda: self._bucket_notifications(logical_id, name, raw))

    def _bucket_notifications(self, logical_id: str, bucket: str, raw: dict) -> None:
        config = self.intrinsics.resolve(raw)
        target = self._notifications.setdefault(bucket, {})
        for index, item in enumerate(config.get("LambdaConfigurations", [])):
            target.setdefault("LambdaFunctionConfigurations", []).append(_without_none({
                "Id": f"{logical_id}Lambda{index}", "LambdaFunctionArn": item["Function"],
                "Events": [item["Event"]], "Filter": _key_filter(item.get("Filter"))}))
        for index, item in enumerate(config.get("QueueConfigurations", [])):
            target.setdefault("QueueConfigurations", []).append(_without_none({
                "Id": f"{logical_id}Queue{index}", "QueueArn": item["Queue"],
                "Events": [item["Event"]], "Filter": _key_filter(item.get("Filter"))}))
        for index, item in enumerate(config.get("TopicConfigurations", [])):
            target.setdefault("TopicConfigurations", []).append(_without_none({
                "Id": f"{logical_id}Topic{index}", "TopicArn": item["Topic"],
                "Events": [item["Event"]], "Filter": _key_filter(item.get("Filter"))}))
        if (config.get("EventBridgeConfiguration") or {}).get("EventBridgeEnabled"):
            target["EventBridgeConfiguration"] = {}

    def _table(self, logical_id: str, props: dict) -> None:
        dynamodb = self.client("dynamodb")
        name = self.name(logical_id, props, "TableName", 255)
        billing = props.get("BillingMode", "PROVISIONED")
        kwargs: dict[str, Any] = {
            "TableName": name, "KeySchema": props["KeySchema"],
            "AttributeDefinitions": props["AttributeDefinitions"], "BillingMode": billing,
        }
        if billing == "PROVISIONED":
            kwargs["ProvisionedThroughput"] = _throughput(props.get("ProvisionedThroughput"))
        for key in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
            if props.get(key):
                indexes = [dict(index) for index in props[key]]
                for index in indexes:
                    if billing == "PROVISIONED" and key == "GlobalSecondaryIndexes":
                        index["ProvisionedThroughput"] = _throughput(index.get("ProvisionedThroughput"))
                    else:
                        index.pop("ProvisionedThroughput", None)
                kwargs[key] = indexes
        stream = props.get("StreamSpecification")
        if stream:
            kwargs["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": stream["StreamViewType"]}
        if props.get("Tags"):
            kwargs["Tags"] = props["Tags"]
        table = dynamodb.create_table(**kwargs)["TableDescription"]
        ttl = props.get("TimeToLiveSpecification")
        if ttl:
            self._best_effort(f"{logical_id}.TimeToLiveSpecification", lambda v: dynamodb.update_time_to_live(
                TableName=name, TimeToLiveSpecification={"Enabled": bool(v.get("Enabled", True)),
                                                         "AttributeName": v["AttributeName"]}), ttl)
        pitr = props.get("PointInTimeRecoverySpecification")
        if pitr:
            self._best_effort(f"{logical_id}.PointInTimeRecoverySpecification", lambda v: dynamodb.update_continuous_backups(
                TableName=name, PointInTimeRecoverySpecification={
                    "PointInTimeRecoveryEnabled": bool(v.get("PointInTimeRecoveryEnabled"))}), pitr)
        for key in set(props) - {"TableName", "KeySchema", "AttributeDefinitions", "BillingMode", "ProvisionedThroughput",
                                 "GlobalSecondaryIndexes", "LocalSecondaryIndexes", "StreamSpecification", "Tags",
                                 "TimeToLiveSpecification", "PointInTimeRecoverySpecification"}:
            self._warn(f"{logical_id}.{key} is not applied locally")
        self._set(logical_id, name, Arn=table["TableArn"], StreamArn=table.get("LatestStreamArn"))

    def _simple_table(self, logical_id: str, props: dict) -> None:
        key = props.get("PrimaryKey") or {"Name": "id", "Type": "String"}
        kind = {"String": "S", "Number": "N", "Binary": "B"}.get(key.get("Type", "String"), "S")
        table = {
            "TableName": props.get("TableName"),
            "KeySchema": [{"AttributeName": key["Name"], "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": key["Name"], "AttributeType": kind}],
        }
        if props.get("ProvisionedThroughput"):
            table["ProvisionedThroughput"] = props["ProvisionedThroughput"]
        else:
            table["BillingMode"] = "PAY_PER_REQUEST"
        if props.get("Tags"):
            table["Tags"] = [{"Key": k, "Value": v} for k, v in props["Tags"].items()]
        self._table(logical_id, {k: v for k, v in table.items() if v is not None})

    def _secret(self, logical_id: str, props: dict) -> None:
        secrets = self.client("secretsmanager")
        name = self.name(logical_id, props, "Name", 512)
        kwargs: dict[str, Any] = {"Name": name}
        if props.get("Description"):
            kwargs["Description"] = props["Description"]
        if props.get("Tags"):
            kwargs["Tags"] = props["Tags"]
        if "SecretString" in props:
            kwargs["SecretString"] = props["SecretString"]
        elif "GenerateSecretString" in props:
            kwargs["SecretString"] = self._generated_secret(props["GenerateSecretString"])
        arn = secrets.create_secret(**kwargs)["ARN"]
        self._set(logical_id, arn, Id=arn, Arn=arn, Name=name)

    def _generated_secret(self, spec: dict) -> str:
        options = {key: spec[key] for key in (
            "PasswordLength", "ExcludeCharacters", "ExcludeNumbers", "ExcludePunctuation", "ExcludeUppercase",
            "ExcludeLowercase", "IncludeSpace", "RequireEachIncludedType") if key in spec}
        if "PasswordLength" in options:
            options["PasswordLength"] = int(options["PasswordLength"])
        password = self.client("secretsmanager").get_random_password(**options)["RandomPassword"]
        if spec.get("SecretStringTemplate") and spec.get("GenerateStringKey"):
            document = json.loads(spec["SecretStringTemplate"])
            document[spec["GenerateStringKey"]] = password
            return json.dumps(document)
        return password

    # --- messaging --------------------------------------------------------------------------------

    def _topic(self, logical_id: str, props: dict) -> None:
        sns = self.client("sns")
        fifo = str(props.get("FifoTopic", "")).lower() == "true"
        name = self.name(logical_id, props, "TopicName", 256 - 5 * fifo)
        if fifo and not name.endswith(".fifo"):
            name += ".fifo"
        attributes = {key: to_text(props[key]) for key in (
            "DisplayName", "FifoTopic", "ContentBasedDeduplication", "KmsMasterKeyId") if key in props}
        kwargs: dict[str, Any] = {"Name": name, "Attributes": attributes}
        if props.get("Tags"):
            kwargs["Tags"] = props["Tags"]
        arn = sns.create_topic(**kwargs)["TopicArn"]
        for subscription in props.get("Subscription", []):
            sns.subscribe(TopicArn=arn, Protocol=subscription["Protocol"], Endpoint=subscription["Endpoint"])
        self._set(logical_id, arn, TopicArn=arn, TopicName=name)

    def _subscription(self, logical_id: str, props: dict) -> None:
        def subscribe(v: dict) -> None:
            attributes = {key: json.dumps(v[key]) if isinstance(v[key], dict) else to_text(v[key])
                          for key in ("FilterPolicy", "RawMessageDelivery", "RedrivePolicy") if key in v}
            self.client("sns").subscribe(TopicArn=v["TopicArn"], Protocol=v["Protocol"],
                                         Endpoint=v["Endpoint"], Attributes=attributes)

        self._best_effort(logical_id, subscribe, props)
        self._set(logical_id, self.name(logical_id, {}, "", 128))

    def _queue(self, logical_id: str, props: dict) -> None:
        fifo = str(props.get("FifoQueue", "")).lower() == "true"
        name = self.name(logical_id, props, "QueueName", 80 - 5 * fifo)
        if fifo and not name.endswith(".fifo"):
            name += ".fifo"
        attributes = {key: json.dumps(value) if isinstance(value, dict) else to_text(value)
                      for key, value in props.items() if key not in ("QueueName", "Tags")}
        kwargs: dict[str, Any] = {"QueueName": name, "Attributes": attributes}
        if props.get("Tags"):
            kwargs["tags"] = {tag["Key"]: tag["Value"] for tag in props["Tags"]}
        url = self.client("sqs").create_queue(**kwargs)["QueueUrl"]
        self._set(logical_id, url, Arn=f"arn:aws:sqs:{self.region}:{self.account}:{name}", QueueName=name, QueueUrl=url)

    # --- compute ----------------------------------------------------------------------------------

    def _local_dir(self, logical_id: str, key: str, value: Any) -> Path:
        if not isinstance(value, str) or value.startswith("s3://"):
            raise TemplateError(f"{logical_id}.{key} must be a local directory to run locally, got {value!r}")
        directory = (self.template.base_dir / value).resolve()
        if not directory.is_dir():
            raise TemplateError(f"{logical_id}.{key}: {directory} is not a directory")
        return directory

    def _zip(self, directory: Path) -> bytes:
        if directory not in self._zips:
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
                for root, dirs, files in os.walk(directory):
                    dirs[:] = sorted(d for d in dirs if d != "__pycache__" and not d.startswith("."))
                    for file_name in sorted(files):
                        if not file_name.endswith(".pyc"):
                            path = Path(root) / file_name
                            archive.write(path, path.relative_to(directory).as_posix())
            self._zips[directory] = buffer.getvalue()
        return self._zips[directory]

    def _layer(self, logical_id: str, props: dict) -> None:
        key = "ContentUri" if "ContentUri" in props else "Content"
        directory = self._local_dir(logical_id, key, props.get(key))
        kwargs: dict[str, Any] = {
            "LayerName": str(props.get("LayerName") or logical_id),
            "Content": {"ZipFile": self._zip(directory)},
        }
        for source, target in (("CompatibleRuntimes", "CompatibleRuntimes"), ("Description", "Description"),
                               ("LicenseInfo", "LicenseInfo"), ("CompatibleArchitectures", "CompatibleArchitectures")):
            if props.get(source):
                kwargs[target] = props[source]
        arn = self.client("lambda").publish_layer_version(**kwargs)["LayerVersionArn"]
        self._layer_dirs[arn] = directory / "python" if (directory / "python").is_dir() else directory
        self._set(logical_id, arn, LayerVersionArn=arn)

    def _function(self, logical_id: str, props: dict) -> None:
        if props.get("PackageType") == "Image":
            self._skip(logical_id, "container-image functions are not emulated")
            return
        if "InlineCode" in props:
            raise TemplateError(f"{logical_id}: InlineCode is not supported locally; use CodeUri")
        code_dir = self._local_dir(logical_id, "CodeUri", props.get("CodeUri"))
        name = self.name(logical_id, props, "FunctionName", 64)
        runtime = str(props.get("Runtime", "python3.11"))
        timeout = int(props.get("Timeout", 3))
        memory = int(props.get("MemorySize", 128))
        handler = str(props["Handler"])
        variables = {str(k): to_text(v, f"{logical_id} Environment {k}")
                     for k, v in ((props.get("Environment") or {}).get("Variables") or {}).items()}
        layers, layer_dirs = [], []
        for arn in props.get("Layers", []):
            if arn in self._layer_dirs:
                layers.append(arn)
                layer_dirs.append(self._layer_dirs[arn])
            else:
                self._warn(f"{logical_id}: layer {arn} is not in the template; its packages must be installed locally")
        kwargs: dict[str, Any] = {
            "FunctionName": name, "Runtime": runtime, "Handler": handler, "Timeout": timeout, "MemorySize": memory,
            "Role": props.get("Role") or self.lambda_role["Arn"], "Code": {"ZipFile": self._zip(code_dir)},
            "Environment": {"Variables": {**variables, **self.env_overrides}}, "Layers": layers,
            "TracingConfig": {"Mode": "Active" if props.get("Tracing") == "Active" else "PassThrough"},
        }
        for key in ("Description", "Architectures", "EphemeralStorage"):
            if props.get(key):
                kwargs[key] = props[key]
        if props.get("Tags"):
            kwargs["Tags"] = {str(k): str(v) for k, v in props["Tags"].items()}
        arn = self.client("lambda").create_function(**kwargs)["FunctionArn"]
        environment = {
            **variables,
            # What the Lambda runtime sets; the template cannot override these on AWS either.
            "AWS_LAMBDA_FUNCTION_NAME": name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory),
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{name}",
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{runtime}",
            "LAMBDA_TASK_ROOT": str(code_dir),
            "_HANDLER": handler,
            # As `sam local invoke` sets it: Powertools turns X-Ray tracing off under it.
            "AWS_SAM_LOCAL": "true",
            **self.env_overrides,
        }
        spec = FunctionSpec(logical_id=logical_id, name=name, arn=arn, code_dir=code_dir, handler=handler,
                            environment=environment, layer_dirs=layer_dirs, timeout=timeout,
                            memory_size=memory, runtime=runtime)
        self.dispatcher.register(spec)
        self.out.functions[logical_id] = spec
        self._set(logical_id, name, Arn=arn)
        self._collect_events(logical_id)

    def _collect_events(self, logical_id: str) -> None:
        events = (self.active[logical_id].get("Properties") or {}).get("Events") or {}
        for event_name, event in events.items():
            self._events.append(FunctionEvent(owner=logical_id, name=event_name, type=str(event.get("Type")),
                                              properties=event.get("Properties") or {}))

    def _state_machine(self, logical_id: str, props: dict) -> None:
        serverless = self.active[logical_id]["Type"] == "AWS::Serverless::StateMachine"
        text, yaml_source = self._definition_text(logical_id, props)
        for key, value in (props.get("DefinitionSubstitutions") or {}).items():
            text = text.replace("${" + key + "}", to_text(value, f"{logical_id} DefinitionSubstitutions {key}"))
        try:
            definition = load_yaml(text) if yaml_source else json.loads(text)
        except ValueError as exc:
            raise TemplateError(f"{logical_id}: the definition is not valid after substitution: {exc}") from None
        if "${" in text:
            self._warn(f"{logical_id}: the definition still contains ${{...}} placeholders after substitution")
        name = self.name(logical_id, props, "Name" if serverless else "StateMachineName", 80)
        kwargs: dict[str, Any] = {
            "name": name, "definition": json.dumps(definition),
            "roleArn": props.get("Role" if serverless else "RoleArn") or self.states_role["Arn"],
            "type": props.get("Type" if serverless else "StateMachineType") or "STANDARD",
        }
        tags = props.get("Tags")
        if isinstance(tags, dict):
            kwargs["tags"] = [{"key": k, "value": str(v)} for k, v in tags.items()]
        elif tags:
            kwargs["tags"] = [{"key": t["Key"], "value": t["Value"]} for t in tags]
        arn = self.client("stepfunctions").create_state_machine(**kwargs)["stateMachineArn"]
        self._set(logical_id, arn, Arn=arn, Name=name)
        if serverless:
            self._collect_events(logical_id)

    def _definition_text(self, logical_id: str, props: dict) -> tuple[str, bool]:
        if isinstance(props.get("Definition"), dict):
            return json.dumps(props["Definition"]), False
        if isinstance(props.get("DefinitionString"), str):
            return props["DefinitionString"], False
        location = props.get("DefinitionUri")
        if isinstance(location, str) and not location.startswith("s3://"):
            path = (self.template.base_dir / location).resolve()
            if not path.is_file():
                raise TemplateError(f"{logical_id}.DefinitionUri: {path} does not exist")
            return path.read_text(encoding="utf-8"), path.suffix in (".yaml", ".yml")
        raise TemplateError(f"{logical_id}: needs Definition, DefinitionString or a local DefinitionUri")

    # --- events and schedules ---------------------------------------------------------------------

    def _rule(self, logical_id: str, props: dict) -> None:
        name = self.name(logical_id, props, "Name", 64)
        self._put_rule(logical_id, name, props, props.get("Targets", []))

    def _put_rule(self, logical_id: str, name: str, rule: dict, targets: list[dict]) -> None:
        events = self.client("events")
        kwargs: dict[str, Any] = {"Name": name, "State": rule.get("State", "ENABLED")}
        if rule.get("ScheduleExpression"):
            kwargs["ScheduleExpression"] = rule["ScheduleExpression"]
        if rule.get("EventPattern"):
            pattern = rule["EventPattern"]
            kwargs["EventPattern"] = pattern if isinstance(pattern, str) else json.dumps(pattern)
        for key in ("Description", "EventBusName"):
            if rule.get(key):
                kwargs[key] = rule[key]
        arn = events.put_rule(**kwargs)["RuleArn"]
        if targets:
            allowed = ("Id", "Arn", "Input", "InputPath", "InputTransformer", "RoleArn")
            cleaned = [{key: target[key] for key in allowed if key in target} for target in targets]
            target_kwargs: dict[str, Any] = {"Rule": name, "Targets": cleaned}
            if rule.get("EventBusName"):
                target_kwargs["EventBusName"] = rule["EventBusName"]
            events.put_targets(**target_kwargs)
        self.out.rules[logical_id] = name
        self._set(logical_id, name, Arn=arn)

    def _wire_event(self, event: FunctionEvent) -> None:
        props = self.intrinsics.resolve(event.properties)
        owner_arn = self.out.attributes[event.owner]["Arn"]
        is_function = event.owner in self.out.functions
        if event.type == "S3" and is_function:
            configuration = self._notifications.setdefault(props["Bucket"], {})
            events = props["Events"] if isinstance(props["Events"], list) else [props["Events"]]
            configuration.setdefault("LambdaFunctionConfigurations", []).append(_without_none({
                "Id": event.logical_id, "LambdaFunctionArn": owner_arn, "Events": events,
                "Filter": _key_filter(props.get("Filter"))}))
        elif event.type in ("Schedule", "ScheduleV2", "EventBridgeRule", "CloudWatchEvent"):
            self._event_rule(event, props, owner_arn, is_function)
        elif event.type == "SNS" and is_function:
            attributes = {"FilterPolicy": json.dumps(props["FilterPolicy"])} if props.get("FilterPolicy") else {}
            self.client("sns").subscribe(TopicArn=props["Topic"], Protocol="lambda", Endpoint=owner_arn,
                                         Attributes=attributes)
        elif event.type == "SQS" and is_function:
            self.client("lambda").create_event_source_mapping(
                EventSourceArn=props["Queue"], FunctionName=owner_arn, BatchSize=int(props.get("BatchSize", 10)),
                Enabled=bool(props.get("Enabled", True)))
        else:
            self._skip(event.logical_id, f"{event.type} events are not emulated")

    def _event_rule(self, event: FunctionEvent, props: dict, owner_arn: str, is_function: bool) -> None:
        if "State" in props:
            state = props["State"]
        else:
            state = "DISABLED" if str(props.get("Enabled", True)).lower() == "false" else "ENABLED"
        rule: dict[str, Any] = {"State": state, "Description": props.get("Description")}
        if event.type in ("Schedule", "ScheduleV2"):
            rule["ScheduleExpression"] = props.get("Schedule") or props.get("ScheduleExpression")
        else:
            rule["EventPattern"] = props.get("Pattern")
            rule["EventBusName"] = props.get("EventBusName")
        target: dict[str, Any] = {"Id": f"{event.logical_id}Target"[:64], "Arn": owner_arn}
        if props.get("Input") is not None:
            target["Input"] = props["Input"] if isinstance(props["Input"], str) else json.dumps(props["Input"])
        if props.get("InputPath"):
            target["InputPath"] = props["InputPath"]
        if not is_function:
            target["RoleArn"] = self.states_role["Arn"]
        name = props.get("Name") or props.get("RuleName") or self.name(event.logical_id, {}, "", 64)
        self._put_rule(event.logical_id, name, {k: v for k, v in rule.items() if v is not None}, [target])
        self.out.event_rules.setdefault(event.name, []).append(event.logical_id)

    # --- accessories (best-effort) ----------------------------------------------------------------

    def _alarm(self, logical_id: str, props: dict) -> None:
        name = self.name(logical_id, props, "AlarmName", 255)
        kwargs = {key: value for key, value in props.items() if key in _ALARM_KEYS}
        for key in ("Period", "EvaluationPeriods", "DatapointsToAlarm"):
            if key in kwargs:
                kwargs[key] = int(kwargs[key])
        if "Threshold" in kwargs:
            kwargs["Threshold"] = float(kwargs["Threshold"])
        if "ActionsEnabled" in kwargs:
            kwargs["ActionsEnabled"] = str(kwargs["ActionsEnabled"]).lower() == "true"
        kwargs["AlarmName"] = name
        if self._best_effort(logical_id, lambda v: self.client("cloudwatch").put_metric_alarm(**v), kwargs):
            self._set(logical_id, name, Arn=f"arn:aws:cloudwatch:{self.region}:{self.account}:alarm:{name}")

    def _log_group(self, logical_id: str, props: dict) -> None:
        name = self.name(logical_id, props, "LogGroupName", 512)

        def create(v: dict) -> None:
            logs = self.client("logs")
            logs.create_log_group(logGroupName=name)
            if v.get("RetentionInDays"):
                logs.put_retention_policy(logGroupName=name, retentionInDays=int(v["RetentionInDays"]))

        if self._best_effort(logical_id, create, props):
            self._set(logical_id, name, Arn=f"arn:aws:logs:{self.region}:{self.account}:log-group:{name}:*")

    def _role(self, logical_id: str, props: dict) -> None:
        name = self.name(logical_id, props, "RoleName", 64)

        def create(v: dict) -> dict:
            kwargs: dict[str, Any] = {"RoleName": name, "AssumeRolePolicyDocument": json.dumps(
                v.get("AssumeRolePolicyDocument") or LAMBDA_TRUST)}
            for key in ("Path", "Description"):
                if v.get(key):
                    kwargs[key] = v[key]
            return self.client("iam").create_role(**kwargs)["Role"]

        role = self._best_effort(logical_id, create, props)
        if role:
            self._set(logical_id, name, Arn=role["Arn"], RoleId=role["RoleId"])

    def _event_source_mapping(self, logical_id: str, props: dict) -> None:
        kwargs = {key: props[key] for key in ("EventSourceArn", "FunctionName", "BatchSize", "Enabled",
                                              "StartingPosition") if key in props}
        mapping = self._best_effort(logical_id, lambda v: self.client("lambda").create_event_source_mapping(**v), kwargs)
        if mapping:
            self._set(logical_id, mapping["UUID"], Id=mapping["UUID"])

    def _best_effort(self, what: str, action: Callable[[Any], Any], value: Any) -> Any:
        """Run `action(value)`; on failure record why (skipped for a resource, a warning for a property)."""
        try:
            return action(value) or True
        except Exception as exc:  # noqa: BLE001 - accessories must never stop a local deploy
            reason = f"{type(exc).__name__}: {exc}"
            if "." in what:
                self._warn(f"{what} not applied locally ({reason})")
            else:
                self._skip(what, f"failed locally ({reason})")
            return None

    _CREATORS: dict[str, Callable[[Deployer, str, dict], None]] = {
        "AWS::S3::Bucket": _bucket,
        "AWS::DynamoDB::Table": _table,
        "AWS::Serverless::SimpleTable": _simple_table,
        "AWS::SecretsManager::Secret": _secret,
        "AWS::SNS::Topic": _topic,
        "AWS::SNS::Subscription": _subscription,
        "AWS::SQS::Queue": _queue,
        "AWS::Serverless::LayerVersion": _layer,
        "AWS::Lambda::LayerVersion": _layer,
        "AWS::Serverless::Function": _function,
        "AWS::Serverless::StateMachine": _state_machine,
        "AWS::StepFunctions::StateMachine": _state_machine,
        "AWS::Events::Rule": _rule,
        "AWS::CloudWatch::Alarm": _alarm,
        "AWS::Logs::LogGroup": _log_group,
        "AWS::IAM::Role": _role,
        "AWS::Lambda::EventSourceMapping": _event_source_mapping,
    }


_ALARM_KEYS = frozenset({
    "AlarmName", "AlarmDescription", "ActionsEnabled", "AlarmActions", "OKActions", "InsufficientDataActions",
    "MetricName", "Namespace", "Statistic", "ExtendedStatistic", "Dimensions", "Period", "Unit",
    "EvaluationPeriods", "DatapointsToAlarm", "Threshold", "ComparisonOperator", "TreatMissingData",
    "EvaluateLowSampleCountPercentile", "Metrics", "ThresholdMetricId", "Tags",
})


def _without_none(mapping: dict) -> dict:
    return {key: value for key, value in mapping.items() if value is not None}


def _key_filter(sam_filter: dict | None) -> dict | None:
    """SAM/CFN `Filter: {S3Key: {Rules: [{Name, Value}]}}` -> the API's `Filter.Key.FilterRules`."""
    rules = ((sam_filter or {}).get("S3Key") or {}).get("Rules") or []
    if not rules:
        return None
    # moto matches only lower-case rule names; AWS accepts either case.
    return {"Key": {"FilterRules": [{"Name": rule["Name"].lower(), "Value": rule["Value"]} for rule in rules]}}


def _throughput(spec: dict | None) -> dict:
    spec = spec or {}
    return {"ReadCapacityUnits": int(spec.get("ReadCapacityUnits", 5)),
            "WriteCapacityUnits": int(spec.get("WriteCapacityUnits", 5))}


def _lifecycle_rule(rule: dict) -> dict:
    """A CloudFormation lifecycle rule in the S3 API's shape (the common fields)."""
    out: dict[str, Any] = {"Status": rule.get("Status", "Enabled")}
    if rule.get("Id"):
        out["ID"] = rule["Id"]
    prefix, tags = rule.get("Prefix"), rule.get("TagFilters") or []
    if tags:
        out["Filter"] = {"And": _without_none({"Prefix": prefix, "Tags": tags})} if prefix or len(tags) > 1 else {"Tag": tags[0]}
    else:
        out["Filter"] = {"Prefix": prefix or ""}
    expiration = _without_none({"Days": rule.get("ExpirationInDays"), "Date": rule.get("ExpirationDate"),
                                "ExpiredObjectDeleteMarker": rule.get("ExpiredObjectDeleteMarker")})
    if expiration:
        out["Expiration"] = {k: int(v) if k == "Days" else v for k, v in expiration.items()}
    noncurrent = rule.get("NoncurrentVersionExpiration") or (
        {"NoncurrentDays": rule["NoncurrentVersionExpirationInDays"]} if rule.get("NoncurrentVersionExpirationInDays") else None)
    if noncurrent:
        out["NoncurrentVersionExpiration"] = {k: int(v) for k, v in noncurrent.items()}
    if rule.get("AbortIncompleteMultipartUpload"):
        out["AbortIncompleteMultipartUpload"] = {
            "DaysAfterInitiation": int(rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"])}
    transitions = [_without_none({"Days": t.get("TransitionInDays"), "Date": t.get("TransitionDate"),
                                  "StorageClass": t["StorageClass"]}) for t in rule.get("Transitions", [])]
    if transitions:
        out["Transitions"] = transitions
    return out


def _encryption_rule(rule: dict) -> dict:
    """CloudFormation's `ServerSideEncryptionByDefault` is the API's `ApplyServerSideEncryptionByDefault`."""
    return _without_none({"ApplyServerSideEncryptionByDefault": rule.get("ServerSideEncryptionByDefault"),
                          "BucketKeyEnabled": rule.get("BucketKeyEnabled")})


def _cors_rule(rule: dict) -> dict:
    return _without_none({"AllowedHeaders": rule.get("AllowedHeaders"), "AllowedMethods": rule["AllowedMethods"],
                          "AllowedOrigins": rule["AllowedOrigins"], "ExposeHeaders": rule.get("ExposedHeaders"),
                          "MaxAgeSeconds": rule.get("MaxAge"), "ID": rule.get("Id")})
