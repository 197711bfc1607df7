"""What a Step Functions Catch records (`{"Error": name, "Cause": json}`) → {name, message, action}."""

from __future__ import annotations

import json

from .. import errors


def default_action(name: str) -> str | None:
    cls = getattr(errors, name, None)
    if isinstance(cls, type) and issubclass(cls, errors.TikTokSyncError):
        return cls.action
    return None


def error_from_catch(err: dict | None) -> dict | None:
    """The report's `error` block: `name` (DESIGN §6; `error` is kept as an alias), message, action."""
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
    action = action or default_action(name)
    out = {"name": name, "error": name, "message": message}
    if action:
        out["action"] = action
    return out


def error_dict(exc: BaseException) -> dict:
    """The same block for an exception raised in this process."""
    name = type(exc).__name__
    message = getattr(exc, "message", None) or str(exc)
    out = {"name": name, "error": name, "message": message}
    action = getattr(exc, "action", None) or default_action(name)
    if action:
        out["action"] = action
    return out



def named_error(error: dict) -> Exception:
    """An error recorded elsewhere (a failed map item), as an exception of its own class, so the
    state machine's Catch and the report name it the same. Unknown names become TikTokSyncError."""
    name = error.get("name") or error.get("error") or "TikTokSyncError"
    cls = getattr(errors, name, None)
    message = error.get("message", "")
    if isinstance(cls, type) and issubclass(cls, errors.TikTokSyncError) and not issubclass(cls, errors.TikTokApiError):
        return cls(message, action=error.get("action"))
    return errors.TikTokSyncError(f"{name}: {message}", action=error.get("action"))
