"""The driver's own exception types."""


class PackLoadError(Exception):
    """The pack could not be loaded; `step` says at which step (Swift reads an exception's own string
    attributes as `PythonError.attributes`)."""

    def __init__(self, message, step):
        super().__init__(message)
        self.step = step


class Captured(BaseException):
    """Unwinds PolicyPack(...) once its servicer has been captured."""


class UnrenderableResult(Exception):
    """A policy's result holds text the response cannot carry (not reached: encoding raises first)."""
