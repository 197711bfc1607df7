"""The errors the emulation raises."""


class EmulationError(Exception):
    """Base class: something the local emulation cannot do or was asked to do wrongly."""


class TemplateError(EmulationError):
    """The template cannot be read, resolved or deployed (bad parameter, unknown reference, cycle...)."""


class LambdaInvokeError(EmulationError):
    """A handler raised. `error_type` is the exception class name, as Lambda reports it in `errorType`."""

    def __init__(self, error_type: str, message: str, payload: dict | None = None):
        super().__init__(f"{error_type}: {message}")
        self.error_type = error_type
        self.message = message
        self.payload = payload or {}
