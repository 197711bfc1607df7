"""Creating (and deleting) the translated CloudFormation template in moto with boto3.

moto's own CloudFormation cannot deploy this stack (it skips secrets, bucket notifications, state
machine definitions from files, layers; research/local-aws.md §6), so `Deployer` plays
CloudFormation's part for the plain resource types SAM's transform produces: it resolves
intrinsics, creates each resource with its service API in dependency order, with deterministic
names (`<stack>-<LogicalId>` unless the template names it), rolls back a failed create, resolves
Outputs, and deletes a stack honouring DeletionPolicy.

Functions run in-process from their source folders (`dispatch.py`): moto gets a placeholder zip.
Each function's role is real (its inline and managed policies) and the function runs with that
role's credentials (`iam.py`). Core types fail loudly; accessories (alarms, log groups,
permissions, tags) are best-effort and land in `Deployment.skipped` / `Deployment.warnings`.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import logging
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .dispatch import Dispatcher, FunctionSpec
from .errors import TemplateError
from .iam import Enforcement, ensure_aws_managed_policy
from .intrinsics import Intrinsics, pseudo_parameters, to_text
from .template import creation_order, load_yaml, resolve_parameters
from .translate import local_path, translate

log = logging.getLogger(__name__)
_PLACEHOLDER_README = b"The local emulation runs this code from its source folder (template.yaml's CodeUri).\n"
_QUIET_SKIPS = {
    # moto would enforce it with its own evaluator, which judges every request insecure
    # (aws:SecureTransport false); resource policies are not evaluated locally (iam.py).
    "AWS::S3::BucketPolicy": "resource policies are not evaluated locally",
    "AWS::SNS::TopicPolicy": "resource policies are not evaluated locally",
    "AWS::SQS::QueuePolicy": "resource policies are not evaluated locally",
}


@functools.cache
def _placeholder_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("LOCAL-EMULATION.txt", _PLACEHOLDER_README)
    return buffer.getvalue()


@dataclass
class Deployment:
    """What a deploy produced. `resources` holds what `Ref` returns for each logical id."""

    stack_id: str = ""
    template: dict = field(default_factory=dict)  # the translated CloudFormation template
    resources: dict[str, Any] = field(default_factory=dict)
    attributes: dict[str, dict[str, Any]] = field(default_factory=dict)
    types: dict[str, str] = field(default_factory=dict)
    parameters: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    functions: dict[str, FunctionSpec] = field(default_factory=dict)  # by logical id
    rules: dict[str, str] = field(default_factory=dict)  # Events::Rule / Scheduler::Schedule logical id -> name
    event_rules: dict[str, list[str]] = field(default_factory=dict)  # SAM event name -> rule logical ids
    skipped: dict[str, str] = field(default_factory=dict)  # logical id -> why
    warnings: list[str] = field(default_factory=list)
    created: list[str] = field(default_factory=list)  # logical ids, in creation order
    state_machine_roles: dict[str, str] = field(default_factory=dict)  # role ARN -> state machine logical id


class Deployer:
    def __init__(
        self,
        body: dict,
        base_dir: Path,
        *,
        client: Callable[[str], Any],
        dispatcher: Dispatcher,
        enforcement: Enforcement,
        stack_name: str,
        region: str,
        account_id: str,
        parameters: dict[str, Any] | None = None,
        env_overrides: dict[str, str] | None = None,
        stack_uuid: str | None = None,
    ):
        self.body = body
        self.base_dir = base_dir
        self.client = client
        self.dispatcher = dispatcher
        self.enforcement = enforcement
        self.stack = stack_name
        self.region = region
        self.account = account_id
        self.env_overrides = {str(k): str(v) for k, v in (env_overrides or {}).items()}
        # A new stack gets a new id (so a redeploy after a delete gets a new bucket, as in AWS); the
        # local runner keeps its stack's id in the state directory, as a deployed stack keeps its own.
        self.out = Deployment(stack_id=f"arn:aws:cloudformation:{region}:{account_id}:stack/{stack_name}/"
                                       f"{stack_uuid or uuid.uuid4()}")
        self.out.parameters = resolve_parameters(body.get("Parameters") or {}, parameters)
        self.active: dict[str, dict] = {}
        self._layer_dirs: dict[str, Path] = {}  # layer version ARN -> directory put on sys.path
        self._trust: dict[str, dict] = {}  # role ARN -> trust policy, for roles of this template

    # --- driver -----------------------------------------------------------------------------------

    def deploy(self) -> Deployment:
        template = translate(self.body, self.base_dir, self.out.parameters)
        self.out.template = template
        self.intrinsics = Intrinsics(
            parameters=self.out.parameters,
            pseudo=pseudo_parameters(self.region, self.account, self.stack, self.out.stack_id),
            mappings=template.get("Mappings") or {},
            conditions=template.get("Conditions") or {},
            ref=self._ref,
            get_att=self._get_att,
        )
        for logical_id, resource in template["Resources"].items():
            if not isinstance(resource, dict) or "Type" not in resource:
                raise TemplateError(f"resource {logical_id} has no Type")
            condition = resource.get("Condition")
            if condition is None or self.intrinsics.condition(condition):
                self.active[logical_id] = resource
        try:
            for logical_id in creation_order(self.active):
                self._create(logical_id)
            self._resolve_outputs(template.get("Outputs") or {})
        except BaseException:
            try:
                self.delete(rollback=True)  # as CloudFormation rolls back a failed create
            except Exception:  # noqa: BLE001 - the failure that made the create fail is the one to report
                log.warning("rolling back the failed deploy failed too", exc_info=True)
            raise
        self._name_sam_events()
        self._alias_sam_ids()
        return self.out

    def _create(self, logical_id: str) -> None:
        resource = self.active[logical_id]
        kind = resource["Type"]
        self.out.types[logical_id] = kind
        creator = self._CREATORS.get(kind)
        if creator is None:
            self._skip(logical_id, _QUIET_SKIPS.get(kind, f"{kind} is not emulated"))
            return
        try:
            props = self.intrinsics.resolve(resource.get("Properties") or {})
        except TemplateError as exc:
            raise TemplateError(f"{logical_id}: {exc}") from None
        try:
            creator(self, logical_id, props)
        except TemplateError:
            raise
        except Exception as exc:
            raise TemplateError(f"{logical_id} ({kind}): {exc}") from exc
        self.out.created.append(logical_id)

    def _resolve_outputs(self, outputs: dict) -> None:
        for name, output in outputs.items():
            condition = (output or {}).get("Condition")
            if condition is not None and not self.intrinsics.condition(condition):
                continue
            try:
                self.out.outputs[name] = self.intrinsics.resolve(output["Value"])
            except TemplateError as exc:
                raise TemplateError(f"output {name}: {exc}") from None

    def _name_sam_events(self) -> None:
        """SAM names the rule of a function's or state machine's event `<Owner><EventName>`."""
        for owner, resource in (self.body.get("Resources") or {}).items():
            events = ((resource or {}).get("Properties") or {}).get("Events") or {}
            for event_name in events:
                if f"{owner}{event_name}" in self.out.rules:
                    self.out.event_rules.setdefault(event_name, []).append(f"{owner}{event_name}")

    def _alias_sam_ids(self) -> None:
        """SAM gives a layer version a new logical id (`<LogicalId><content hash>`); its `!Ref` in
        the SAM template means that one, so the original id answers for it too."""
        for logical_id, resource in (self.body.get("Resources") or {}).items():
            if (resource or {}).get("Type") != "AWS::Serverless::LayerVersion" or logical_id in self.out.resources:
                continue
            renamed = [lid for lid, kind in self.out.types.items()
                       if kind == "AWS::Lambda::LayerVersion" and lid.startswith(logical_id)
                       and len(lid) == len(logical_id) + 10]
            if len(renamed) == 1:
                self.out.resources[logical_id] = self.out.resources[renamed[0]]
                self.out.attributes[logical_id] = self.out.attributes[renamed[0]]

    # --- references -------------------------------------------------------------------------------

    def _ref(self, name: str) -> Any:
        if name in self.out.resources:
            return self.out.resources[name]
        resources = self.out.template.get("Resources") or {}
        if name in resources and name not in self.active:
            raise TemplateError(f"reference to {name}, whose Condition is false")
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

    # --- storage ----------------------------------------------------------------------------------

    def _bucket(self, logical_id: str, props: dict) -> None:
        s3 = self.client("s3")
        name = self.name(logical_id, props, "BucketName", 63, lower=True)
        try:
            s3.head_bucket(Bucket=name)
        except Exception:  # noqa: BLE001 - not there: create it
            pass
        else:
            raise TemplateError(f"{logical_id} (AWS::S3::Bucket): {name} already exists")
        kwargs: dict[str, Any] = {"Bucket": name}
        if self.region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
        s3.create_bucket(**kwargs)
        self._set(logical_id, name, Arn=f"arn:aws:s3:::{name}", DomainName=f"{name}.s3.amazonaws.com",
                  RegionalDomainName=f"{name}.s3.{self.region}.amazonaws.com",
                  DualStackDomainName=f"{name}.s3.dualstack.{self.region}.amazonaws.com",
                  WebsiteURL=f"http://{name}.s3-website-{self.region}.amazonaws.com")
        extras = {
            "VersioningConfiguration": lambda v: s3.put_bucket_versioning(
                Bucket=name, VersioningConfiguration={"Status": v["Status"]}),
            "BucketEncryption": lambda v: s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={
                "Rules": [_encryption_rule(r) for r in v["ServerSideEncryptionConfiguration"]]}),
            "PublicAccessBlockConfiguration": lambda v: s3.put_public_access_block(
                Bucket=name, PublicAccessBlockConfiguration=v),
            "LifecycleConfiguration": lambda v: s3.put_bucket_lifecycle_configuration(
                Bucket=name, LifecycleConfiguration={"Rules": [_lifecycle_rule(r) for r in v["Rules"]]}),
            "OwnershipControls": lambda v: s3.put_bucket_ownership_controls(
                Bucket=name, OwnershipControls={"Rules": v["Rules"]}),
            "Tags": lambda v: s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": v}),
            "CorsConfiguration": lambda v: s3.put_bucket_cors(
                Bucket=name, CORSConfiguration={"CORSRules": [_cors_rule(r) for r in v["CorsRules"]]}),
        }
        for key, value in props.items():
            if key in extras:
                self._best_effort(f"{logical_id}.{key}", extras[key], value)
            elif key == "NotificationConfiguration":
                s3.put_bucket_notification_configuration(
                    Bucket=name, NotificationConfiguration=_notifications(logical_id, value))
            elif key != "BucketName":
                self._warn(f"{logical_id}.{key} is not applied locally")

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
        if props.get("SSESpecification"):
            kwargs["SSESpecification"] = {"Enabled": str(props["SSESpecification"].get("SSEEnabled")).lower() == "true"}
        if props.get("Tags"):
            kwargs["Tags"] = props["Tags"]
        table = dynamodb.create_table(**kwargs)["TableDescription"]
        ttl = props.get("TimeToLiveSpecification")
        if ttl:
            self._best_effort(f"{logical_id}.TimeToLiveSpecification", lambda v: dynamodb.update_time_to_live(
                TableName=name, TimeToLiveSpecification={"Enabled": str(v.get("Enabled", True)).lower() == "true",
                                                         "AttributeName": v["AttributeName"]}), ttl)
        pitr = props.get("PointInTimeRecoverySpecification")
        if pitr:
            self._best_effort(f"{logical_id}.PointInTimeRecoverySpecification", lambda v: dynamodb.update_continuous_backups(
                TableName=name, PointInTimeRecoverySpecification={
                    "PointInTimeRecoveryEnabled": str(v.get("PointInTimeRecoveryEnabled")).lower() == "true"}), pitr)
        for key in set(props) - {"TableName", "KeySchema", "AttributeDefinitions", "BillingMode", "ProvisionedThroughput",
                                 "GlobalSecondaryIndexes", "LocalSecondaryIndexes", "StreamSpecification", "Tags",
                                 "SSESpecification", "TimeToLiveSpecification", "PointInTimeRecoverySpecification"}:
            self._warn(f"{logical_id}.{key} is not applied locally")
        self._set(logical_id, name, Arn=table["TableArn"], StreamArn=table.get("LatestStreamArn"))

    def _secret(self, logical_id: str, props: dict) -> None:
        secrets = self.client("secretsmanager")
        name = self.name(logical_id, props, "Name", 512)
        kwargs: dict[str, Any] = {"Name": name}
        for key in ("Description", "Tags", "KmsKeyId"):
            if props.get(key):
                kwargs[key] = props[key]
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
        def subscribe(v: dict) -> dict:
            attributes = {key: json.dumps(v[key]) if isinstance(v[key], dict) else to_text(v[key])
                          for key in ("FilterPolicy", "RawMessageDelivery", "RedrivePolicy") if key in v}
            return self.client("sns").subscribe(TopicArn=v["TopicArn"], Protocol=v["Protocol"],
                                                Endpoint=v["Endpoint"], Attributes=attributes)

        answer = self._best_effort(logical_id, subscribe, props)
        if isinstance(answer, dict):
            self._set(logical_id, answer["SubscriptionArn"])

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

    # --- identity ---------------------------------------------------------------------------------

    def _role(self, logical_id: str, props: dict) -> None:
        iam = self.client("iam")
        name = self.name(logical_id, props, "RoleName", 64)
        trust = props.get("AssumeRolePolicyDocument") or {}
        kwargs: dict[str, Any] = {"RoleName": name, "AssumeRolePolicyDocument": json.dumps(trust)}
        for key in ("Path", "Description", "MaxSessionDuration", "Tags"):
            if props.get(key):
                kwargs[key] = int(props[key]) if key == "MaxSessionDuration" else props[key]
        role = iam.create_role(**kwargs)["Role"]
        self._set(logical_id, name, Arn=role["Arn"], RoleId=role["RoleId"])
        self._trust[role["Arn"]] = trust
        for policy in props.get("Policies") or []:
            iam.put_role_policy(RoleName=name, PolicyName=policy["PolicyName"],
                                PolicyDocument=_policy_json(policy["PolicyDocument"]))
        for arn in props.get("ManagedPolicyArns") or []:
            if ":iam::aws:policy/" in arn and not ensure_aws_managed_policy(self.account, arn):
                self._warn(f"{logical_id}: AWS managed policy {arn} is unknown to moto; not attached")
                continue
            iam.attach_role_policy(RoleName=name, PolicyArn=arn)
        if props.get("PermissionsBoundary"):
            self._warn(f"{logical_id}.PermissionsBoundary is not evaluated locally")

    def _iam_policy(self, logical_id: str, props: dict) -> None:
        for role in props.get("Roles") or []:
            self.client("iam").put_role_policy(RoleName=role, PolicyName=props["PolicyName"],
                                               PolicyDocument=_policy_json(props["PolicyDocument"]))
        if props.get("Users") or props.get("Groups"):
            self._warn(f"{logical_id}: only Roles are attached locally")
        self._set(logical_id, props["PolicyName"])

    def _managed_policy(self, logical_id: str, props: dict) -> None:
        iam = self.client("iam")
        kwargs: dict[str, Any] = {"PolicyName": self.name(logical_id, props, "ManagedPolicyName", 128),
                                  "PolicyDocument": _policy_json(props["PolicyDocument"])}
        for key in ("Path", "Description"):
            if props.get(key):
                kwargs[key] = props[key]
        arn = iam.create_policy(**kwargs)["Policy"]["Arn"]
        for role in props.get("Roles") or []:
            iam.attach_role_policy(RoleName=role, PolicyArn=arn)
        self._set(logical_id, arn, PolicyArn=arn)

    def _check_trust(self, logical_id: str, role_arn: str, service: str) -> None:
        """AWS refuses a role its service cannot assume (the trust policy must name the service)."""
        trust = self._trust.get(role_arn)
        if trust is None:
            return  # a role from outside the template
        for statement in _as_list(trust.get("Statement")):
            actions = _as_list(statement.get("Action"))
            services = _as_list((statement.get("Principal") or {}).get("Service"))
            if statement.get("Effect") == "Allow" and service in services and (
                    "sts:AssumeRole" in actions or "sts:*" in actions or "*" in actions):
                return
        raise TemplateError(f"{logical_id}: its role {role_arn} cannot be assumed by {service} (trust policy)")

    # --- compute ----------------------------------------------------------------------------------

    def _code_dir(self, logical_id: str, code: dict) -> Path:
        directory = local_path(code, self.base_dir)
        if directory is not None:
            if not directory.is_dir():
                raise TemplateError(f"{logical_id}: {directory} is not a directory")
            return directory
        if isinstance(code.get("ZipFile"), str):  # inline source
            return self.dispatcher.temporary_dir("inline")
        raise TemplateError(f"{logical_id}: code must be a local folder (CodeUri/ContentUri) to run locally")

    def _layer(self, logical_id: str, props: dict) -> None:
        directory = self._code_dir(logical_id, props.get("Content") or {})
        kwargs: dict[str, Any] = {"LayerName": str(props.get("LayerName") or self.name(logical_id, {}, "", 140)),
                                  "Content": {"ZipFile": _placeholder_zip()}}
        for key in ("CompatibleRuntimes", "Description", "LicenseInfo", "CompatibleArchitectures"):
            if props.get(key):
                kwargs[key] = props[key]
        arn = self.client("lambda").publish_layer_version(**kwargs)["LayerVersionArn"]
        self._layer_dirs[arn] = directory / "python" if (directory / "python").is_dir() else directory
        self._set(logical_id, arn, LayerVersionArn=arn)

    def _function(self, logical_id: str, props: dict) -> None:
        if props.get("PackageType") == "Image":
            self._skip(logical_id, "container-image functions are not emulated")
            return
        code = props.get("Code") or {}
        code_dir = self._code_dir(logical_id, code)
        handler = str(props["Handler"])
        if isinstance(code.get("ZipFile"), str):
            (code_dir / f"{handler.rpartition('.')[0] or 'index'}.py").write_text(code["ZipFile"], encoding="utf-8")
        role_arn = str(props["Role"])
        self._check_trust(logical_id, role_arn, "lambda.amazonaws.com")
        name = self.name(logical_id, props, "FunctionName", 64)
        runtime = str(props.get("Runtime", "python3.12"))
        timeout, memory = int(props.get("Timeout", 3)), int(props.get("MemorySize", 128))
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
            "Role": role_arn, "Code": {"ZipFile": _placeholder_zip()}, "Layers": layers,
            "Environment": {"Variables": {**variables, **self.env_overrides}},
        }
        for key in ("Description", "Architectures", "EphemeralStorage", "TracingConfig", "DeadLetterConfig"):
            if props.get(key):
                kwargs[key] = props[key]
        if props.get("Tags"):
            kwargs["Tags"] = {tag["Key"]: str(tag["Value"]) for tag in props["Tags"]}
        arn = self.client("lambda").create_function(**kwargs)["FunctionArn"]
        credentials = self.enforcement.credentials(role_arn, logical_id)
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
            **Enforcement.environment(credentials),
        }
        spec = FunctionSpec(logical_id=logical_id, name=name, arn=arn, code_dir=code_dir, handler=handler,
                            environment=environment, layer_dirs=layer_dirs, timeout=timeout, memory_size=memory,
                            runtime=runtime, role_arn=role_arn,
                            dead_letter_arn=(props.get("DeadLetterConfig") or {}).get("TargetArn"))
        self.dispatcher.register(spec)
        self.out.functions[logical_id] = spec
        self._set(logical_id, name, Arn=arn)

    def _permission(self, logical_id: str, props: dict) -> None:
        kwargs = {"FunctionName": props["FunctionName"], "StatementId": logical_id, "Action": props["Action"],
                  "Principal": props["Principal"]}
        for key in ("SourceArn", "SourceAccount"):
            if props.get(key):
                kwargs[key] = props[key]
        self._best_effort(f"{logical_id}.Policy", lambda v: self.client("lambda").add_permission(**v), kwargs)
        self._set(logical_id, logical_id)

    def _event_invoke_config(self, logical_id: str, props: dict) -> None:
        kwargs = {key: props[key] for key in ("FunctionName", "MaximumRetryAttempts", "MaximumEventAgeInSeconds",
                                              "DestinationConfig") if key in props}
        for key in ("MaximumRetryAttempts", "MaximumEventAgeInSeconds"):
            if key in kwargs:
                kwargs[key] = int(kwargs[key])
        self.client("lambda").put_function_event_invoke_config(**kwargs)
        self._set(logical_id, logical_id)

    def _event_source_mapping(self, logical_id: str, props: dict) -> None:
        kwargs = {key: props[key] for key in ("EventSourceArn", "FunctionName", "BatchSize", "Enabled",
                                              "StartingPosition") if key in props}
        mapping = self._best_effort(logical_id, lambda v: self.client("lambda").create_event_source_mapping(**v), kwargs)
        if isinstance(mapping, dict):
            self._set(logical_id, mapping["UUID"], Id=mapping["UUID"])

    def _state_machine(self, logical_id: str, props: dict) -> None:
        text, yaml_source = self._definition_text(logical_id, props)
        for key, value in (props.get("DefinitionSubstitutions") or {}).items():
            text = text.replace("${" + key + "}", to_text(value, f"{logical_id} DefinitionSubstitutions {key}"))
        try:
            definition = load_yaml(text) if yaml_source else json.loads(text)
        except ValueError as exc:
            raise TemplateError(f"{logical_id}: the definition is not valid after substitution: {exc}") from None
        if "${" in text:
            self._warn(f"{logical_id}: the definition still contains ${{...}} placeholders after substitution")
        role_arn = str(props["RoleArn"])
        self._check_trust(logical_id, role_arn, "states.amazonaws.com")
        name = self.name(logical_id, props, "StateMachineName", 80)
        kwargs: dict[str, Any] = {"name": name, "definition": json.dumps(definition), "roleArn": role_arn,
                                  "type": props.get("StateMachineType") or "STANDARD"}
        if props.get("Tags"):
            kwargs["tags"] = [{"key": t["Key"], "value": t["Value"]} for t in props["Tags"]]
        if props.get("LoggingConfiguration"):
            kwargs["loggingConfiguration"] = _lower_first(props["LoggingConfiguration"])
        if props.get("TracingConfiguration"):
            kwargs["tracingConfiguration"] = _lower_first(props["TracingConfiguration"])
        arn = self.client("stepfunctions").create_state_machine(**kwargs)["stateMachineArn"]
        self.out.state_machine_roles.setdefault(role_arn, logical_id)
        self._set(logical_id, arn, Arn=arn, Name=name)

    def _definition_text(self, logical_id: str, props: dict) -> tuple[str, bool]:
        if isinstance(props.get("Definition"), dict):
            return json.dumps(props["Definition"]), False
        if isinstance(props.get("DefinitionString"), str):
            return props["DefinitionString"], False
        path = local_path(props.get("DefinitionS3Location"), self.base_dir)
        if path is None or not path.is_file():
            raise TemplateError(f"{logical_id}: needs Definition, DefinitionString or a local DefinitionUri")
        return path.read_text(encoding="utf-8"), path.suffix in (".yaml", ".yml")

    # --- events and schedules ---------------------------------------------------------------------

    def _rule(self, logical_id: str, props: dict) -> None:
        events = self.client("events")
        name = self.name(logical_id, props, "Name", 64)
        kwargs: dict[str, Any] = {"Name": name, "State": props.get("State", "ENABLED")}
        for key in ("ScheduleExpression", "Description", "EventBusName", "RoleArn"):
            if props.get(key):
                kwargs[key] = props[key]
        if props.get("EventPattern"):
            pattern = props["EventPattern"]
            kwargs["EventPattern"] = pattern if isinstance(pattern, str) else json.dumps(pattern)
        arn = events.put_rule(**kwargs)["RuleArn"]
        targets = props.get("Targets") or []
        if targets:
            allowed = ("Id", "Arn", "Input", "InputPath", "InputTransformer", "RoleArn", "RetryPolicy", "DeadLetterConfig")
            target_kwargs: dict[str, Any] = {"Rule": name, "Targets": [
                {key: target[key] for key in allowed if key in target} for target in targets]}
            if props.get("EventBusName"):
                target_kwargs["EventBusName"] = props["EventBusName"]
            events.put_targets(**target_kwargs)
        self.out.rules[logical_id] = name
        self._set(logical_id, name, Arn=arn)

    def _schedule(self, logical_id: str, props: dict) -> None:
        name = self.name(logical_id, props, "Name", 64)
        kwargs: dict[str, Any] = {"Name": name, "ScheduleExpression": props["ScheduleExpression"],
                                  "FlexibleTimeWindow": props.get("FlexibleTimeWindow") or {"Mode": "OFF"},
                                  "Target": props["Target"]}
        for key in ("Description", "State", "GroupName", "ScheduleExpressionTimezone"):
            if props.get(key):
                kwargs[key] = props[key]
        arn = self.client("scheduler").create_schedule(**kwargs)["ScheduleArn"]
        self.out.rules[logical_id] = name
        self._set(logical_id, name, Arn=arn)

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

    _CREATORS: dict[str, Callable[[Deployer, str, dict], None]] = {
        "AWS::S3::Bucket": _bucket,
        "AWS::DynamoDB::Table": _table,
        "AWS::SecretsManager::Secret": _secret,
        "AWS::SNS::Topic": _topic,
        "AWS::SNS::Subscription": _subscription,
        "AWS::SQS::Queue": _queue,
        "AWS::IAM::Role": _role,
        "AWS::IAM::Policy": _iam_policy,
        "AWS::IAM::ManagedPolicy": _managed_policy,
        "AWS::Lambda::LayerVersion": _layer,
        "AWS::Lambda::Function": _function,
        "AWS::Lambda::Permission": _permission,
        "AWS::Lambda::EventInvokeConfig": _event_invoke_config,
        "AWS::Lambda::EventSourceMapping": _event_source_mapping,
        "AWS::StepFunctions::StateMachine": _state_machine,
        "AWS::Events::Rule": _rule,
        "AWS::Scheduler::Schedule": _schedule,
        "AWS::CloudWatch::Alarm": _alarm,
        "AWS::Logs::LogGroup": _log_group,
    }

    # --- deleting ---------------------------------------------------------------------------------

    def delete(self, rollback: bool = False) -> dict[str, str]:
        """Delete what this deployment created, newest first, as CloudFormation deletes a stack:
        DeletionPolicy Retain keeps a resource; RetainExceptOnCreate keeps it too, except when a
        failed create rolls back. Returns {logical_id: physical id} of what was kept."""
        kept: dict[str, str] = {}
        resources = self.out.template.get("Resources") or {}
        for logical_id in reversed(self.out.created):
            policy = (resources.get(logical_id) or {}).get("DeletionPolicy", "Delete")
            if policy == "Retain" or (policy == "RetainExceptOnCreate" and not rollback):
                kept[logical_id] = str(self.out.resources.get(logical_id))
                continue
            deleter = _DELETERS.get(self.out.types[logical_id])
            if deleter is not None:
                deleter(self, logical_id)
        self.out.created = []
        self.dispatcher.forget(self.out.functions.values())
        return kept

    def _delete_bucket(self, logical_id: str) -> None:
        s3, name = self.client("s3"), self.out.resources[logical_id]
        listed = s3.list_object_versions(Bucket=name, MaxKeys=1)
        if listed.get("Versions") or listed.get("DeleteMarkers"):
            raise TemplateError(f"{logical_id}: DELETE_FAILED: the bucket {name} is not empty")
        s3.delete_bucket(Bucket=name)


def _delete_by(service: str, call: str, key: str, attribute: str | None = None, **extra: Any) -> Callable:
    def delete(deployer: Deployer, logical_id: str) -> None:
        value = deployer.out.attributes[logical_id][attribute] if attribute else deployer.out.resources[logical_id]
        getattr(deployer.client(service), call)(**{key: value}, **extra)

    return delete


def _delete_role(deployer: Deployer, logical_id: str) -> None:
    iam, name = deployer.client("iam"), deployer.out.resources[logical_id]
    for policy in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]:
        iam.detach_role_policy(RoleName=name, PolicyArn=policy["PolicyArn"])
    for policy in iam.list_role_policies(RoleName=name)["PolicyNames"]:
        iam.delete_role_policy(RoleName=name, PolicyName=policy)
    iam.delete_role(RoleName=name)


def _delete_managed_policy(deployer: Deployer, logical_id: str) -> None:
    iam, arn = deployer.client("iam"), deployer.out.resources[logical_id]
    for role in iam.list_entities_for_policy(PolicyArn=arn)["PolicyRoles"]:
        iam.detach_role_policy(RoleName=role["RoleName"], PolicyArn=arn)
    iam.delete_policy(PolicyArn=arn)


def _delete_rule(deployer: Deployer, logical_id: str) -> None:
    events, name = deployer.client("events"), deployer.out.resources[logical_id]
    ids = [target["Id"] for target in events.list_targets_by_rule(Rule=name)["Targets"]]
    if ids:
        events.remove_targets(Rule=name, Ids=ids)
    events.delete_rule(Name=name)


def _delete_layer(deployer: Deployer, logical_id: str) -> None:
    arn = deployer.out.resources[logical_id]
    name, version = arn.rsplit(":", 2)[-2:]
    deployer.client("lambda").delete_layer_version(LayerName=name, VersionNumber=int(version))


_DELETERS: dict[str, Callable[[Deployer, str], None]] = {
    "AWS::S3::Bucket": Deployer._delete_bucket,
    "AWS::DynamoDB::Table": _delete_by("dynamodb", "delete_table", "TableName"),
    # CloudFormation deletes a secret without a recovery window (its name is free again at once).
    "AWS::SecretsManager::Secret": _delete_by("secretsmanager", "delete_secret", "SecretId",
                                              ForceDeleteWithoutRecovery=True),
    "AWS::SNS::Topic": _delete_by("sns", "delete_topic", "TopicArn"),
    "AWS::SQS::Queue": _delete_by("sqs", "delete_queue", "QueueUrl"),
    "AWS::IAM::Role": _delete_role,
    "AWS::IAM::ManagedPolicy": _delete_managed_policy,
    "AWS::Lambda::LayerVersion": _delete_layer,
    "AWS::Lambda::Function": _delete_by("lambda", "delete_function", "FunctionName"),
    "AWS::StepFunctions::StateMachine": _delete_by("stepfunctions", "delete_state_machine", "stateMachineArn"),
    "AWS::Events::Rule": _delete_rule,
    "AWS::Scheduler::Schedule": _delete_by("scheduler", "delete_schedule", "Name"),
    "AWS::CloudWatch::Alarm": lambda d, lid: d.client("cloudwatch").delete_alarms(AlarmNames=[d.out.resources[lid]]),
    "AWS::Logs::LogGroup": _delete_by("logs", "delete_log_group", "logGroupName"),
}

_ALARM_KEYS = frozenset({
    "AlarmName", "AlarmDescription", "ActionsEnabled", "AlarmActions", "OKActions", "InsufficientDataActions",
    "MetricName", "Namespace", "Statistic", "ExtendedStatistic", "Dimensions", "Period", "Unit",
    "EvaluationPeriods", "DatapointsToAlarm", "Threshold", "ComparisonOperator", "TreatMissingData",
    "EvaluateLowSampleCountPercentile", "Metrics", "ThresholdMetricId", "Tags",
})


def _policy_json(document: dict) -> str:
    """IAM reads a document without Version as 2008-10-17 (the same, without policy variables);
    moto refuses it, so it gets the current version."""
    return json.dumps({"Version": "2012-10-17", **document})


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else [] if value is None else [value]


def _lower_first(value: Any) -> Any:
    """CloudFormation's PascalCase keys -> the Step Functions API's camelCase."""
    if isinstance(value, dict):
        return {key[:1].lower() + key[1:]: _lower_first(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_lower_first(item) for item in value]
    return value


def _without_none(mapping: dict) -> dict:
    return {key: value for key, value in mapping.items() if value is not None}


def _notifications(logical_id: str, config: dict) -> dict:
    """CloudFormation's NotificationConfiguration in the S3 API's shape."""
    out: dict[str, Any] = {}
    for kind, api_kind, target_key, api_target in (
            ("LambdaConfigurations", "LambdaFunctionConfigurations", "Function", "LambdaFunctionArn"),
            ("QueueConfigurations", "QueueConfigurations", "Queue", "QueueArn"),
            ("TopicConfigurations", "TopicConfigurations", "Topic", "TopicArn")):
        for index, item in enumerate(config.get(kind) or []):
            out.setdefault(api_kind, []).append(_without_none({
                "Id": f"{logical_id}{kind.removesuffix('Configurations')}{index}", api_target: item[target_key],
                "Events": [item["Event"]], "Filter": _key_filter(item.get("Filter"))}))
    if str((config.get("EventBridgeConfiguration") or {}).get("EventBridgeEnabled")).lower() == "true":
        out["EventBridgeConfiguration"] = {}
    return out


def _key_filter(cfn_filter: dict | None) -> dict | None:
    """CloudFormation's `Filter: {S3Key: {Rules: [{Name, Value}]}}` -> the API's `Filter.Key.FilterRules`."""
    rules = ((cfn_filter or {}).get("S3Key") or {}).get("Rules") or []
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
