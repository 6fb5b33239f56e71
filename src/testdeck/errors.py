"""The one error type the UI and the CLI know how to show."""

from __future__ import annotations

_FIELDS = ("service", "profile", "method", "path", "status", "message", "retryable", "detail", "hint")


class ApiError(Exception):
    """Any failure talking to a back-end.

    `message` is the server's own words where it gave any (first meaningful
    line); `detail` keeps the full body for the detail view. Neither may hold
    a secret: the HTTP layer redacts before building one. Equality and hash
    are an exception's own (identity). A plain class: as a dataclass it cost
    every start ~1 ms of generated code.
    """

    def __init__(self, service: str, profile: str, method: str, path: str, status: int | None, message: str,
                 retryable: bool = False, detail: str = "", hint: str = "") -> None:
        self.service = service
        self.profile = profile
        self.method = method
        self.path = path
        self.status = status
        self.message = message
        self.retryable = retryable
        self.detail = detail
        self.hint = hint  # ours, after the server's words: what to do (a missing secret to give)
        super().__init__(self.one_line())

    def __repr__(self) -> str:
        return f"{type(self).__qualname__}({', '.join(f'{name}={getattr(self, name)!r}' for name in _FIELDS)})"

    def one_line(self) -> str:
        if self.status and 200 <= self.status < 300:
            status = "error"  # a 200 whose body reports a failure (xyOps): "HTTP 200" would mislead
        else:
            status = f"HTTP {self.status}" if self.status else "no response"
        message = " ".join(line.strip() for line in str(self.message).splitlines() if line.strip())
        if isinstance(self, Refused) and not self.status:  # nothing was sent: no server to hear from
            status, message = "refused before sending", message.removeprefix("refused: ").removeprefix("not sent: ")
        hint = f" ({self.hint})" if self.hint else ""
        return f"{self.service}/{self.profile}: {self.method} {self.path}: {status}: {message}{hint}"

    def __str__(self) -> str:  # (one_line as it reads now: a field changed after __init__ shows)
        return self.one_line()


def failed_how(exc: ApiError) -> str | None:
    """None for a refusal: nothing was done (a 4xx, a 5xx its adapter knows is a refusal such as
    xyOps' coded errors, the console's own check before sending). Else how it failed when the
    server may have acted all the same ("HTTP 500", "no answer"): sending again could act twice."""
    if exc.status is not None:
        if 200 <= exc.status < 300 and exc.retryable:  # a success whose reply could not be read: it acted
            return f"HTTP {exc.status}, a reply that could not be read"
        return None if exc.status < 500 or not exc.retryable else f"HTTP {exc.status}"
    return "no answer" if exc.retryable else None  # a timeout, a dropped connection: sent or not, nobody knows


def not_done(exc: ApiError) -> str:
    """Why an action did not happen, with the words (a form kept open, a toast): refused, or failed
    when the server may have acted all the same (failed_how): a second send could create twice, so
    look first. A refusal made here that already says so is not prefixed twice ("refused: refused: …")."""
    how = failed_how(exc)
    if how is None:
        if exc.status is None and exc.message.startswith(("refused", "not sent", "nothing changed")):
            return exc.message
        why = "server refused" if exc.status is not None else "refused"
    elif how == "no answer":
        why = "no answer; the server may have acted anyway: check before sending again"
    else:
        why = f"server failed ({how}); it may have acted anyway: check before sending again"
    return f"{why}: {exc.message}"


class Refused(ApiError):
    """A refusal decided here, before anything was sent (read-only, a rule checked first such as a
    full quota): it reads `refused before sending: …`, never `no response` (a server that never answered)."""


class ReadOnlyError(Refused):
    """A mutating call refused because the console runs with --read-only."""


class ConfigError(Exception):
    """A broken or unusable config file; the message names file and line."""


class CredentialError(Exception):
    """A secret could not be read or stored."""


class VerbUsageError(Exception):
    """A headless verb's bad arguments or invalid values: exit 2."""


class Interrupted(Exception):
    """ctrl+c (SIGINT) or SIGTERM ended a verb: exit 128 + the signal's number (130, 143)."""

    def __init__(self, signum: int, message: str):
        super().__init__(message)
        self.signum = signum
