"""Exceptions carrying what the server said: its HTTP status, its error code and its message."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from .job import Job


class RowpoolError(Exception):
    """An error answered by the server (``status``, ``code``, ``message``) or a job that did not succeed."""

    def __init__(self, status: int | None, code: str | None, message: str) -> None:
        super().__init__(status, code, message)
        self.status = status
        self.code = code
        self.message = message

    def __str__(self) -> str:
        prefix = " ".join(str(part) for part in (self.status, self.code) if part is not None)
        return f"{prefix}: {self.message}" if prefix else self.message


class BadRequest(RowpoolError):
    """400: the request was refused; the message says what is accepted."""


class Unauthorized(RowpoolError):
    """401: missing or wrong bearer token."""


class NotFound(RowpoolError):
    """404: no such dataset or job (or, on an older server, no such route)."""


class Conflict(RowpoolError):
    """409: e.g. asking for the result of a job that has not succeeded."""


class PayloadTooLarge(RowpoolError):
    """413: the dataset or result does not fit in the server's memory limit, or the body is too large."""


class Unavailable(RowpoolError):
    """503: the server is starting or shutting down."""


class JobError(RowpoolError):
    """A job ended without a result; ``job`` is the job, ``message`` the server's reason."""

    def __init__(self, job: Job, message: str) -> None:
        super().__init__(None, None, message)
        self.job = job


class JobFailed(JobError):
    """The job ended with status ``failed``."""


class JobCancelled(JobError):
    """The job ended with status ``cancelled``."""


_BY_STATUS: dict[int, type[RowpoolError]] = {
    400: BadRequest,
    401: Unauthorized,
    404: NotFound,
    409: Conflict,
    413: PayloadTooLarge,
    503: Unavailable,
}


def error_from_response(response: httpx.Response) -> RowpoolError:
    """The exception for an error response; its body must have been read."""
    code: str | None = None
    message = response.text[:1000] or response.reason_phrase
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        code = body.get("code") if isinstance(body.get("code"), str) else None
        message = str(body.get("message", message))
    cls = _BY_STATUS.get(response.status_code, RowpoolError)
    return cls(response.status_code, code, message)


def is_missing_route(error: RowpoolError) -> bool:
    """True for the router's own 404 (the route does not exist on this server), not a rowpool 404 about a resource."""
    return error.status == 404 and (error.code is None or error.code == "FST_ERR_NOT_FOUND")
