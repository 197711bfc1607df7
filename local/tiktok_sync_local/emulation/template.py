"""Reading a template and what CloudFormation does before creating anything: YAML with short
tags, Parameters checked against their constraints, and the order resources are created in.

Pure functions and data only: the SAM transform is `translate.py`, intrinsics `intrinsics.py`,
the boto3 calls `deploy.py`.
"""

from __future__ import annotations

import heapq
import re
from pathlib import Path
from typing import Any

import yaml
from samtranslator.yaml_helper import intrinsics_multi_constructor

from .errors import TemplateError

SAM_TRANSFORM = "AWS::Serverless-2016-10-31"


# libyaml's parser when PyYAML has it (~10x faster on template.yaml: ~50 ms of every stack start),
# with PyYAML's own safe constructor and resolver either way: the same documents.
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class CfnLoader(_SafeLoader):  # type: ignore[valid-type,misc]
    """SafeLoader with the AWS CLI's / SAM's constructor for short tags (`!Ref x` -> `{"Ref": "x"}`),
    registered on this subclass only (SAM's own `yaml_parse` changes `yaml.SafeLoader` itself)."""


# CloudFormation reads `AWSTemplateFormatVersion: 2010-09-09` as a string, not a date.
CfnLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
CfnLoader.add_multi_constructor("!", intrinsics_multi_constructor)


def load_yaml(text: str) -> Any:
    return yaml.load(text, Loader=CfnLoader)  # noqa: S506 - a SafeLoader subclass


def load_template(path: str | Path) -> dict:
    """The template at `path`, parsed (short tags in long form). Only the SAM transform is supported."""
    path = Path(path)
    try:
        body = load_yaml(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise TemplateError(f"cannot read {path}: {exc}") from exc
    if not isinstance(body, dict) or not isinstance(body.get("Resources"), dict):
        raise TemplateError(f"{path}: not a CloudFormation template (no Resources)")
    transform = body.get("Transform")
    transforms = transform if isinstance(transform, list) else [transform] if transform else []
    unknown = [t for t in transforms if t != SAM_TRANSFORM]
    if unknown:
        raise TemplateError(f"{path}: unsupported Transform {unknown}")
    return body


# --- Parameters -------------------------------------------------------------------------------------


def _is_list_type(param_type: str) -> bool:
    return param_type == "CommaDelimitedList" or param_type.startswith("List<") or (
        param_type.startswith("AWS::SSM::Parameter::Value<List<")
    )


def resolve_parameters(declared: dict[str, dict], overrides: dict[str, Any] | None) -> dict[str, Any]:
    """Parameter values as `Ref` returns them: strings, or lists for list types.

    Raises TemplateError for an unknown override, a missing value, or a value outside
    AllowedValues / AllowedPattern / Min/MaxLength / Min/MaxValue (as CloudFormation refuses it).
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


# --- Dependencies -----------------------------------------------------------------------------------

_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


def references(node: Any) -> set[str]:
    """Names referenced by Ref / Fn::GetAtt / Fn::Sub inside `node` (parameters and pseudo
    parameters included; callers keep the resource ones)."""
    found: set[str] = set()
    _collect(node, found)
    return found


def _collect(node: Any, found: set[str]) -> None:
    if isinstance(node, list):
        for item in node:
            _collect(item, found)
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
                _collect(value[1:], found)
            return
        if key == "Fn::Sub":
            text, variables = (value[0], value[1] if len(value) > 1 else {}) if isinstance(value, list) else (value, {})
            if isinstance(text, str):
                for match in _SUB_VARIABLE.finditer(text):
                    expr = match.group(1).strip()
                    if not expr.startswith("!") and expr.partition(".")[0] not in (variables or {}):
                        found.add(expr.partition(".")[0])
            _collect(variables, found)
            return
    for value in node.values():
        _collect(value, found)


def creation_order(resources: dict[str, dict]) -> list[str]:
    """Logical ids so each comes after what it references (Ref/GetAtt/Sub anywhere in its
    Properties) and its DependsOn, as CloudFormation orders them; ties keep template order.

    Raises TemplateError naming the resources of a dependency cycle (CloudFormation refuses those too).
    """
    position = {name: index for index, name in enumerate(resources)}
    dependents: dict[str, list[str]] = {name: [] for name in resources}
    waiting: dict[str, int] = {}
    needs_of: dict[str, set[str]] = {}
    for name, resource in resources.items():
        depends_on = resource.get("DependsOn") or []
        needs = references(resource.get("Properties") or {}) | set(
            [depends_on] if isinstance(depends_on, str) else depends_on)
        needs_of[name] = needs = {need for need in needs if need in resources and need != name}
        waiting[name] = len(needs)
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
        raise TemplateError(f"circular dependency between resources: {' -> '.join(_cycle(stuck, needs_of))}")
    return order


def _cycle(stuck: list[str], needs_of: dict[str, set[str]]) -> list[str]:
    """One cycle among the resources that could not be ordered (each needs another stuck one)."""
    path, seen, name = [], {}, stuck[0]
    while name not in seen:
        seen[name] = len(path)
        path.append(name)
        name = min((need for need in needs_of[name] if need in stuck), key=stuck.index)
    return path[seen[name]:] + [name]
