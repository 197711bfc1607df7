"""CloudFormation intrinsic functions and Conditions, resolved against a deployment's values.

`Intrinsics.resolve(node)` walks any template fragment: `Ref`, `Fn::GetAtt`, `Fn::Sub` (both forms),
`Fn::Join`, `Fn::Select`, `Fn::Split`, `Fn::If`, `Fn::Equals`, `Fn::And`, `Fn::Or`, `Fn::Not`,
`Fn::FindInMap`, `Fn::Base64`, `Fn::GetAZs`, `Fn::ToJsonString`, `Fn::Length`; `AWS::NoValue`
removes the key or list item that holds it. Resources are looked up through two callbacks so the
resolver stays pure (and unit-testable).
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from typing import Any

from .errors import TemplateError


class _NoValue:
    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE: Any = _NoValue()

_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_CONDITION_FUNCTIONS = ("Fn::Equals", "Fn::And", "Fn::Or", "Fn::Not", "Condition")


def pseudo_parameters(region: str, account_id: str, stack_name: str, stack_id: str | None = None) -> dict[str, Any]:
    return {
        "AWS::Region": region,
        "AWS::AccountId": account_id,
        "AWS::StackName": stack_name,
        "AWS::StackId": stack_id or
        f"arn:aws:cloudformation:{region}:{account_id}:stack/{stack_name}/00000000-0000-0000-0000-000000000000",
        "AWS::Partition": "aws",
        "AWS::URLSuffix": "amazonaws.com",
        "AWS::NotificationARNs": [],
        "AWS::NoValue": NO_VALUE,
    }


def to_text(value: Any, where: str = "") -> str:
    """A scalar as CloudFormation turns it into a string (booleans lower-case)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    raise TemplateError(f"{where or 'value'}: expected a string, got {value!r}")


def _no_resources(name: str) -> Any:
    raise TemplateError(f"unresolved reference {name!r}")


def _no_attributes(name: str, attribute: str) -> Any:
    raise TemplateError(f"unresolved attribute {name}.{attribute}")


class Intrinsics:
    """Resolves intrinsic functions. `ref(name)` / `get_att(name, attribute)` answer for resources."""

    def __init__(
        self,
        *,
        parameters: dict[str, Any] | None = None,
        pseudo: dict[str, Any] | None = None,
        mappings: dict[str, dict] | None = None,
        conditions: dict[str, Any] | None = None,
        ref: Callable[[str], Any] = _no_resources,
        get_att: Callable[[str, str], Any] = _no_attributes,
    ):
        self.parameters = parameters or {}
        self.pseudo = pseudo or {}
        self.mappings = mappings or {}
        self.condition_expressions = conditions or {}
        self._ref_resource = ref
        self._get_att_resource = get_att
        self._condition_values: dict[str, bool] = {}
        self._evaluating: set[str] = set()

    # --- public -----------------------------------------------------------------------------------

    def resolve(self, node: Any) -> Any:
        """`node` with every intrinsic replaced by its value; AWS::NoValue entries removed."""
        if isinstance(node, dict):
            if len(node) == 1:
                (key, value), = node.items()
                if key == "Ref" or key.startswith("Fn::"):
                    return self._call(key, value)
            resolved = {key: self.resolve(value) for key, value in node.items()}
            return {key: value for key, value in resolved.items() if value is not NO_VALUE}
        if isinstance(node, list):
            return [item for item in (self.resolve(item) for item in node) if item is not NO_VALUE]
        return node

    def condition(self, name: str) -> bool:
        """The value of a named condition from the template's Conditions."""
        if name in self._condition_values:
            return self._condition_values[name]
        if name not in self.condition_expressions:
            raise TemplateError(f"unknown condition {name!r}")
        if name in self._evaluating:
            raise TemplateError(f"condition {name!r} refers to itself")
        self._evaluating.add(name)
        try:
            value = self._truth(self.condition_expressions[name], f"condition {name}")
        finally:
            self._evaluating.discard(name)
        self._condition_values[name] = value
        return value

    def ref(self, name: str) -> Any:
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        return self._ref_resource(name)

    # --- functions --------------------------------------------------------------------------------

    def _call(self, key: str, value: Any) -> Any:
        handler = self._FUNCTIONS.get(key)
        if handler is None:
            raise TemplateError(f"{key} is not supported by the local emulation")
        return handler(self, value)

    def _fn_ref(self, value: Any) -> Any:
        return self.ref(self._text(value, "Ref"))

    def _fn_get_att(self, value: Any) -> Any:
        if isinstance(value, str):
            name, _, attribute = value.partition(".")
        elif isinstance(value, list) and len(value) == 2:
            name, attribute = value[0], self._text(value[1], "Fn::GetAtt")
        else:
            raise TemplateError(f"Fn::GetAtt: bad argument {value!r}")
        return self._get_att_resource(name, attribute)

    def _fn_sub(self, value: Any) -> str:
        if isinstance(value, list):
            if len(value) != 2 or not isinstance(value[1], dict):
                raise TemplateError(f"Fn::Sub: bad argument {value!r}")
            text, variables = value[0], {key: self.resolve(v) for key, v in value[1].items()}
        else:
            text, variables = value, {}
        if not isinstance(text, str):
            raise TemplateError(f"Fn::Sub: expected a string, got {text!r}")

        def substitute(match: re.Match) -> str:
            expr = match.group(1)
            if expr.startswith("!"):
                return "${" + expr[1:] + "}"
            expr = expr.strip()
            if expr in variables:
                return to_text(variables[expr], f"Fn::Sub ${{{expr}}}")
            if "." in expr and expr not in self.pseudo:
                name, _, attribute = expr.partition(".")
                return to_text(self._get_att_resource(name, attribute), f"Fn::Sub ${{{expr}}}")
            return to_text(self.ref(expr), f"Fn::Sub ${{{expr}}}")

        return _SUB_VARIABLE.sub(substitute, text)

    def _fn_join(self, value: Any) -> str:
        if not isinstance(value, list) or len(value) != 2:
            raise TemplateError(f"Fn::Join: bad argument {value!r}")
        delimiter = self._text(value[0], "Fn::Join")
        items = self.resolve(value[1])
        if not isinstance(items, list):
            raise TemplateError(f"Fn::Join: expected a list, got {items!r}")
        return delimiter.join(to_text(item, "Fn::Join") for item in items)

    def _fn_select(self, value: Any) -> Any:
        if not isinstance(value, list) or len(value) != 2:
            raise TemplateError(f"Fn::Select: bad argument {value!r}")
        index = int(self._text(value[0], "Fn::Select"))
        items = self.resolve(value[1])
        if not isinstance(items, list) or not 0 <= index < len(items):
            raise TemplateError(f"Fn::Select: index {index} out of range for {items!r}")
        return items[index]

    def _fn_split(self, value: Any) -> list[str]:
        if not isinstance(value, list) or len(value) != 2:
            raise TemplateError(f"Fn::Split: bad argument {value!r}")
        return self._text(value[1], "Fn::Split").split(self._text(value[0], "Fn::Split"))

    def _fn_if(self, value: Any) -> Any:
        if not isinstance(value, list) or len(value) != 3:
            raise TemplateError(f"Fn::If: bad argument {value!r}")
        return self.resolve(value[1] if self.condition(value[0]) else value[2])

    def _fn_find_in_map(self, value: Any) -> Any:
        if not isinstance(value, list) or len(value) not in (3, 4):
            raise TemplateError(f"Fn::FindInMap: bad argument {value!r}")
        map_name, top, second = (self._text(part, "Fn::FindInMap") for part in value[:3])
        try:
            return self.mappings[map_name][top][second]
        except (KeyError, TypeError):
            if len(value) == 4 and isinstance(value[3], dict) and "DefaultValue" in value[3]:
                return self.resolve(value[3]["DefaultValue"])
            raise TemplateError(f"Fn::FindInMap: no {map_name}/{top}/{second}") from None

    def _fn_base64(self, value: Any) -> str:
        return base64.b64encode(self._text(value, "Fn::Base64").encode()).decode()

    def _fn_get_azs(self, value: Any) -> list[str]:
        region = self.resolve(value) or self.pseudo.get("AWS::Region", "us-east-1")
        return [f"{region}{zone}" for zone in "abc"]

    def _fn_to_json_string(self, value: Any) -> str:
        return json.dumps(self.resolve(value), separators=(",", ":"))

    def _fn_length(self, value: Any) -> int:
        items = self.resolve(value)
        if not isinstance(items, list):
            raise TemplateError(f"Fn::Length: expected a list, got {items!r}")
        return len(items)

    def _fn_equals(self, value: Any) -> bool:
        return self._truth({"Fn::Equals": value}, "Fn::Equals")

    def _fn_and(self, value: Any) -> bool:
        return self._truth({"Fn::And": value}, "Fn::And")

    def _fn_or(self, value: Any) -> bool:
        return self._truth({"Fn::Or": value}, "Fn::Or")

    def _fn_not(self, value: Any) -> bool:
        return self._truth({"Fn::Not": value}, "Fn::Not")

    def _fn_import_value(self, value: Any) -> Any:
        raise TemplateError(f"Fn::ImportValue {value!r}: cross-stack imports are not available locally")

    _FUNCTIONS: dict[str, Callable[[Intrinsics, Any], Any]] = {
        "Ref": _fn_ref,
        "Fn::GetAtt": _fn_get_att,
        "Fn::Sub": _fn_sub,
        "Fn::Join": _fn_join,
        "Fn::Select": _fn_select,
        "Fn::Split": _fn_split,
        "Fn::If": _fn_if,
        "Fn::FindInMap": _fn_find_in_map,
        "Fn::Base64": _fn_base64,
        "Fn::GetAZs": _fn_get_azs,
        "Fn::ToJsonString": _fn_to_json_string,
        "Fn::Length": _fn_length,
        "Fn::Equals": _fn_equals,
        "Fn::And": _fn_and,
        "Fn::Or": _fn_or,
        "Fn::Not": _fn_not,
        "Fn::ImportValue": _fn_import_value,
    }

    # --- conditions -------------------------------------------------------------------------------

    def _truth(self, node: Any, where: str) -> bool:
        if isinstance(node, bool):
            return node
        if isinstance(node, str) and node.lower() in ("true", "false"):
            return node.lower() == "true"
        if not isinstance(node, dict) or len(node) != 1:
            raise TemplateError(f"{where}: not a condition: {node!r}")
        (key, value), = node.items()
        if key == "Condition":
            return self.condition(self._text(value, where))
        if key == "Fn::Equals":
            if not isinstance(value, list) or len(value) != 2:
                raise TemplateError(f"{where}: Fn::Equals needs two values")
            left, right = (self.resolve(item) for item in value)
            return _comparable(left) == _comparable(right)
        if key in ("Fn::And", "Fn::Or"):
            if not isinstance(value, list) or not value:
                raise TemplateError(f"{where}: {key} needs a list of conditions")
            results = (self._truth(item, where) for item in value)
            return all(results) if key == "Fn::And" else any(results)
        if key == "Fn::Not":
            if not isinstance(value, list) or len(value) != 1:
                raise TemplateError(f"{where}: Fn::Not needs one condition")
            return not self._truth(value[0], where)
        if key == "Ref" or key.startswith("Fn::"):
            return self._truth(self.resolve(node), where)
        raise TemplateError(f"{where}: not a condition: {node!r}")

    def _text(self, value: Any, where: str) -> str:
        return to_text(self.resolve(value), where)


def _comparable(value: Any) -> Any:
    if isinstance(value, (bool, int, float)):
        return to_text(value)
    return value
