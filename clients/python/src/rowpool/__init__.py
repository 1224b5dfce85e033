"""Python client for rowpool: per-row NumPy computations over datasets held once in a server's shared memory."""

from .client import Client
from .dataset import Dataset
from .errors import (
    BadRequest,
    Conflict,
    JobCancelled,
    JobError,
    JobFailed,
    NotFound,
    PayloadTooLarge,
    RowpoolError,
    Unauthorized,
    Unavailable,
)
from .job import Job, Progress

__all__ = [
    "BadRequest",
    "Client",
    "Conflict",
    "Dataset",
    "Job",
    "JobCancelled",
    "JobError",
    "JobFailed",
    "NotFound",
    "PayloadTooLarge",
    "Progress",
    "RowpoolError",
    "Unauthorized",
    "Unavailable",
]
