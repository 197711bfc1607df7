"""Reading a SAM template: YAML with CloudFormation tags, Parameters, Globals, and resource order.

Pure functions and data only: nothing here talks to AWS (see `deploy.py`) or resolves
intrinsics (see `intrinsics.py`).
"""

from __future__ import annotations

import copy
import heapq
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import TemplateError

SAM_TRANSFORM = "AWS::Serverless-2016-10-31"


# --- YAML -------------------------------------------------------------------------------------------


class CfnLoader(yaml.SafeLoader):
    """SafeLoader that reads CloudFormation short tags (`!Ref x` -> `{"Ref": "x"}`) and keeps dates as text."""


# CloudFormation reads `AWSTemplateFormatVersion: 2010-09-09` as a string, not a date.
CfnLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _construct_cfn_tag(loader: CfnLoader, tag_suffix: str, node: yaml.Node) -> dict:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if tag_suffix == "Ref":
        return {"Ref": value}
    if tag_suffix == "Condition":
        return {"Condition": value}
    if tag_suffix == "GetAtt" and isinstance(value, str):
        resource, _, attribute = value.partition(".")
        return {"Fn::GetAtt": [resource, attribute]}
    return {f"Fn::{tag_suffix}": value}


CfnLoader.add_multi_constructor("!", _construct_cfn_tag)


def load_yaml(text: str) -> Any:
    return yaml.load(text, Loader=CfnLoader)  # noqa: S506 - a SafeLoader subclass


@dataclass
class Template:
    """A template file as read from disk. `body` is the parsed document with short tags in long form."""

    path: Path
    body: dict

    @classmethod
    def load(cls, path: str | Path) -> Template:
        path = Path(path).resolve()
        try:
            body = load_yaml(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise TemplateError(f"cannot read {path}: {exc}") from exc
        if not isinstance(body, dict) or not isinstance(body.get("Resources"), dict):
            raise TemplateError(f"{path}: not a CloudFormation template (no Resources)")
        transform = body.get("Transform")
        transforms = transform if isinstance(transform, list) else [transform] if transform else []
        unknown = [t for t in transforms if t != SAM_TRANSFORM and t != "AWS::LanguageExtensions"]
        if unknown:
            raise TemplateError(f"{path}: unsupported Transform {unknown}")
        return cls(path=path, body=body)

    @property
    def base_dir(self) -> Path:
        return self.path.parent

    @property
    def resources(self) -> dict[str, dict]:
        return self.body["Resources"]

    def section(self, name: str) -> dict:
        return self.body.get(name) or {}


# --- Parameters -------------------------------------------------------------------------------------


def _is_list_type(param_type: str) -> bool:
    return param_type == "CommaDelimitedList" or param_type.startswith("List<") or (
        param_type.startswith("AWS::SSM::Parameter::Value<List<")
    )


def resolve_parameters(declared: dict[str, dict], overrides: dict[str, Any] | None) -> dict[str, Any]:
    """Parameter values as `Ref` returns them: strings, or lists for list types.

    Raises TemplateError for an unknown override, a missing value, or a value outside
    AllowedValues / AllowedPattern / Min/MaxLength / Min/MaxValue.
    """
    overrides = dict(overrides or {})
    unknown = sorted(set(overrides) - set(declared))
    if unknown:
        raise TemplateError(f"unknown parameter(s): {', '.join(unknown)}")
    values: dict[str, Any] = {}
    for name, spec in declared.items():
        spec = spec or {}
        if name in overrides:
            raw = overrides[name]
        elif "Default" in spec:
            raw = spec["Default"]
        else:
            raise TemplateError(f"parameter {name} has no Default and no value was given")
        param_type = str(spec.get("Type", "String"))
        if _is_list_type(param_type):
            items = raw if isinstance(raw, list) else ([] if str(raw) == "" else str(raw).split(","))
            value: Any = [_param_text(item).strip() for item in items]
            checked = value
        else:
            value = _param_text(raw)
            checked = [value]
        for item in checked:
            _check_parameter(name, spec, param_type, item)
        values[name] = value
    return values


def _param_text(raw: Any) -> str:
    if isinstance(raw, bool):
        return "true" if raw else "false"
    return str(raw)


def _check_parameter(name: str, spec: dict, param_type: str, value: str) -> None:
    allowed = spec.get("AllowedValues")
    if allowed is not None and value not in [_param_text(a) for a in allowed]:
        raise TemplateError(f"parameter {name}={value!r} is not one of AllowedValues {allowed}")
    pattern = spec.get("AllowedPattern")
    if pattern is not None and not re.fullmatch(pattern, value):
        raise TemplateError(f"parameter {name}={value!r} does not match AllowedPattern {pattern!r}")
    if "MinLength" in spec and len(value) < int(spec["MinLength"]):
        raise TemplateError(f"parameter {name} is shorter than MinLength {spec['MinLength']}")
    if "MaxLength" in spec and len(value) > int(spec["MaxLength"]):
        raise TemplateError(f"parameter {name} is longer than MaxLength {spec['MaxLength']}")
    if param_type in ("Number", "List<Number>"):
        try:
            number = float(value)
        except ValueError:
            raise TemplateError(f"parameter {name}={value!r} is not a Number") from None
        if "MinValue" in spec and number < float(spec["MinValue"]):
            raise TemplateError(f"parameter {name}={value} is below MinValue {spec['MinValue']}")
        if "MaxValue" in spec and number > float(spec["MaxValue"]):
            raise TemplateError(f"parameter {name}={value} is above MaxValue {spec['MaxValue']}")


# --- Globals ----------------------------------------------------------------------------------------


def merge_global(global_value: Any, local_value: Any) -> Any:
    """SAM's Globals rule: maps merge (local wins), lists are global items then local ones, else local wins."""
    if isinstance(global_value, dict) and isinstance(local_value, dict):
        merged = copy.deepcopy(global_value)
        for key, value in local_value.items():
            merged[key] = merge_global(merged[key], value) if key in merged else copy.deepcopy(value)
        return merged
    if isinstance(global_value, list) and isinstance(local_value, list):
        return copy.deepcopy(global_value) + copy.deepcopy(local_value)
    return copy.deepcopy(local_value)


def apply_globals(resources: dict[str, dict], globals_section: dict[str, dict]) -> dict[str, dict]:
    """Resources with `Globals.<Kind>` merged into every `AWS::Serverless::<Kind>` (a new dict)."""
    merged: dict[str, dict] = {}
    for logical_id, resource in resources.items():
        resource = copy.deepcopy(resource)
        kind = str(resource.get("Type", ""))
        if kind.startswith("AWS::Serverless::"):
            defaults = (globals_section or {}).get(kind.removeprefix("AWS::Serverless::")) or {}
            properties = resource.get("Properties") or {}
            for key, value in defaults.items():
                properties[key] = merge_global(value, properties[key]) if key in properties else copy.deepcopy(value)
            resource["Properties"] = properties
        merged[logical_id] = resource
    return merged


# --- Dependencies -----------------------------------------------------------------------------------

# Properties whose references do not order resources: IAM policy documents (CloudFormation would
# order them, but they are not evaluated locally and they are the usual source of cycles) and
# event sources, which the deployer wires after every resource exists.
IGNORED_FOR_ORDER: dict[str, frozenset[str]] = {
    "AWS::Serverless::Function": frozenset({"Policies", "Events"}),
    "AWS::Serverless::StateMachine": frozenset({"Policies", "Events"}),
    "AWS::IAM::Role": frozenset({"Policies", "ManagedPolicyArns"}),
    "AWS::IAM::Policy": frozenset({"PolicyDocument", "Roles", "Users", "Groups"}),
    "AWS::IAM::ManagedPolicy": frozenset({"PolicyDocument", "Roles", "Users", "Groups"}),
    "AWS::S3::Bucket": frozenset({"NotificationConfiguration"}),
    "AWS::S3::BucketPolicy": frozenset({"PolicyDocument", "Bucket"}),
    "AWS::SNS::TopicPolicy": frozenset({"PolicyDocument", "Topics"}),
    "AWS::SQS::QueuePolicy": frozenset({"PolicyDocument", "Queues"}),
    "AWS::Lambda::Permission": frozenset({"FunctionName", "SourceArn"}),
}

_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


def references(node: Any, skip_keys: frozenset[str] = frozenset()) -> set[str]:
    """Names referenced by Ref / Fn::GetAtt / Fn::Sub inside `node` (top-level `skip_keys` skipped).

    Includes parameter and pseudo-parameter names; callers keep the resource ones.
    """
    found: set[str] = set()
    _collect(node, found, skip_keys, top=True)
    return found


def _collect(node: Any, found: set[str], skip_keys: frozenset[str], top: bool = False) -> None:
    if isinstance(node, list):
        for item in node:
            _collect(item, found, skip_keys)
        return
    if not isinstance(node, dict):
        return
    if len(node) == 1:
        (key, value), = node.items()
        if key == "Ref" and isinstance(value, str):
            found.add(value)
            return
        if key == "Fn::GetAtt":
            if isinstance(value, str):
                found.add(value.partition(".")[0])
            elif isinstance(value, list) and value and isinstance(value[0], str):
                found.add(value[0])
                _collect(value[1:], found, skip_keys)
            return
        if key == "Fn::Sub":
            text, variables = (value[0], value[1] if len(value) > 1 else {}) if isinstance(value, list) else (value, {})
            if isinstance(text, str):
                for match in _SUB_VARIABLE.finditer(text):
                    expr = match.group(1).strip()
                    if expr.startswith("!"):
                        continue
                    name = expr.partition(".")[0]
                    if name not in (variables or {}):
                        found.add(name)
            _collect(variables, found, skip_keys)
            return
    for key, value in node.items():
        if top and key in skip_keys:
            continue
        _collect(value, found, skip_keys)


def resource_dependencies(resources: dict[str, dict]) -> dict[str, set[str]]:
    """{logical_id: resource logical ids it must come after} (Ref/GetAtt/Sub in Properties, DependsOn)."""
    deps: dict[str, set[str]] = {}
    for logical_id, resource in resources.items():
        kind = str(resource.get("Type", ""))
        refs = references(resource.get("Properties") or {}, IGNORED_FOR_ORDER.get(kind, frozenset()))
        depends_on = resource.get("DependsOn") or []
        refs.update([depends_on] if isinstance(depends_on, str) else depends_on)
        deps[logical_id] = {name for name in refs if name in resources and name != logical_id}
    return deps


def creation_order(resources: dict[str, dict]) -> list[str]:
    """Logical ids so each comes after what it depends on; ties keep template order.

    Raises TemplateError naming the resources of a dependency cycle.
    """
    deps = resource_dependencies(resources)
    position = {name: index for index, name in enumerate(resources)}
    dependents: dict[str, list[str]] = {name: [] for name in resources}
    waiting = {name: len(needs) for name, needs in deps.items()}
    for name, needs in deps.items():
        for need in needs:
            dependents[need].append(name)
    ready = [(position[name], name) for name, count in waiting.items() if count == 0]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        _, name = heapq.heappop(ready)
        order.append(name)
        for dependent in dependents[name]:
            waiting[dependent] -= 1
            if waiting[dependent] == 0:
                heapq.heappush(ready, (position[dependent], dependent))
    if len(order) != len(resources):
        stuck = sorted(set(resources) - set(order), key=position.get)
        raise TemplateError(f"circular dependency between resources: {', '.join(stuck)}")
    return order


@dataclass
class FunctionEvent:
    """One entry of a SAM function's or state machine's `Events`."""

    owner: str  # logical id of the function / state machine
    name: str  # the event's key under Events
    type: str
    properties: dict = field(default_factory=dict)

    @property
    def logical_id(self) -> str:
        """The logical id SAM gives the generated resource (e.g. the Events::Rule)."""
        return f"{self.owner}{self.name}"
