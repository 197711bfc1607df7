"""What a Step Functions Catch records (`{"Error": name, "Cause": json}`) → {error, message, action}."""

from __future__ import annotations

import json


def error_from_catch(err: dict | None) -> dict | None:
    if not err:
        return None
    name = err.get("Error", "Error")
    cause = err.get("Cause", "")
    message, action = cause, None
    try:
        parsed = json.loads(cause)
        if isinstance(parsed, dict):
            message = parsed.get("errorMessage", cause)
    except (ValueError, TypeError):
        pass
    if isinstance(message, str) and " Action: " in message:
        message, action = message.split(" Action: ", 1)
    out = {"error": name, "message": message}
    if action:
        out["action"] = action
    return out
