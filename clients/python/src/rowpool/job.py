"""A job on the server: its status and progress, waiting for it, its result, cancelling it."""

from __future__ import annotations

import json
import time
from typing import NamedTuple, Optional

import httpx
import numpy as np

from ._http import NPY_TYPE
from ._npy import decode_npy
from ._progress import ProgressArg, Report, reporter
from ._resource import Resource
from ._sse import parse_events
from .errors import JobCancelled, JobFailed, RowpoolError, is_missing_route

TERMINAL = frozenset({"succeeded", "failed", "cancelled"})
_POLL_FIRST = 0.005
_POLL_MAX = 0.5


class Progress(NamedTuple):
    rows_done: int
    rows_total: int

    @property
    def fraction(self) -> float:
        return self.rows_done / self.rows_total if self.rows_total else 1.0


class Job(Resource):
    """A job as last seen; ``status`` and ``progress`` ask the server again until the job has ended."""

    @property
    def dataset_id(self) -> str:
        return str(self._info["datasetId"])

    @property
    def op(self) -> str:
        return str(self._info["op"])

    @property
    def done(self) -> bool:
        """Whether the job had ended when last seen (no request)."""
        return self._info["status"] in TERMINAL

    @property
    def status(self) -> str:
        """queued, running, succeeded, failed or cancelled."""
        self._refresh_if_running()
        return str(self._info["status"])

    @property
    def progress(self) -> Progress:
        self._refresh_if_running()
        return self._progress()

    @property
    def error(self) -> Optional[str]:
        """The server's reason when the job failed or was cancelled."""
        error = self._info.get("error")
        return str(error["message"]) if isinstance(error, dict) and "message" in error else None

    def refresh(self) -> "Job":
        self._info = self._api.json("GET", f"/v1/jobs/{self.id}")
        return self

    def wait(self, timeout: Optional[float] = None, progress: ProgressArg = False) -> "Job":
        """Blocks until the job ends. Raises JobFailed, JobCancelled, or TimeoutError after ``timeout`` s."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with reporter(progress, self.op) as report:
            if not self.done and self._api.has_events is not False:
                self._follow_events(deadline, report)
            if not self.done:
                self._poll(deadline, report)
            if report is not None:
                report(*self._progress())
        status = self._info["status"]
        if status == "failed":
            raise JobFailed(self, self.error or f"job {self.id} failed")
        if status == "cancelled":
            raise JobCancelled(self, self.error or f"job {self.id} was cancelled")
        return self

    def result(self) -> np.ndarray:
        """The result as ``.npy``: float64 or int64 per row, or for top-k a structured array (index <i8, value <f8)."""
        with self._api.stream("GET", f"/v1/jobs/{self.id}/result", headers={"accept": NPY_TYPE}) as response:
            return decode_npy(response.iter_bytes())

    def cancel(self) -> None:
        """Cancels the job and keeps its record; on servers without the cancel route, deletes it if it has not ended."""
        if self._api.has_cancel is not False:
            try:
                response = self._api.request("POST", f"/v1/jobs/{self.id}/cancel")
            except RowpoolError as error:
                if not is_missing_route(error):
                    raise
                self._api.has_cancel = False
            else:
                self._api.has_cancel = True
                self._take(response)
                return
        # Deleting is the only way to stop a job there; a job that has already ended is left alone.
        if self.refresh().done:
            return
        self._api.request("DELETE", f"/v1/jobs/{self.id}")
        self._info = {**self._info, "status": "cancelled"}

    def delete(self) -> None:
        """Cancels the job if it runs, frees its result on the server and forgets it."""
        self._api.request("DELETE", f"/v1/jobs/{self.id}")

    def __repr__(self) -> str:
        return f"Job(id={self.id!r}, op={self.op!r}, status={self._info['status']!r})"

    def _progress(self) -> Progress:
        progress = self._info["progress"]
        return Progress(int(progress["rowsDone"]), int(progress["rowsTotal"]))

    def _refresh_if_running(self) -> None:
        if not self.done:
            self.refresh()

    def _take(self, response: httpx.Response) -> None:
        """Keeps the job JSON a response carries, or asks for it when the response has none."""
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict) and "status" in body:
            self._info = body
        else:
            self.refresh()

    def _follow_events(self, deadline: Optional[float], report: Optional[Report]) -> None:
        """Reads the job's event stream until its end event; returns early if the server has no such stream."""
        read_timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
        timeout = self._api.http.timeout
        try:
            with self._api.stream(
                "GET",
                f"/v1/jobs/{self.id}/events",
                headers={"accept": "text/event-stream"},
                timeout=httpx.Timeout(timeout.connect, read=read_timeout, write=timeout.write, pool=timeout.pool),
            ) as response:
                self._api.has_events = True
                for event in parse_events(response.iter_lines()):
                    if event.event == "progress":
                        self._info = {**self._info, "progress": json.loads(event.data)}
                        if report is not None:
                            report(*self._progress())
                    elif event.event == "end":
                        self._info = json.loads(event.data)
                        return
                    self._check_deadline(deadline)
        except RowpoolError as error:
            if not is_missing_route(error):
                raise
            self._api.has_events = False
        except httpx.ReadTimeout:
            self._check_deadline(deadline)
            raise

    def _poll(self, deadline: Optional[float], report: Optional[Report]) -> None:
        delay = _POLL_FIRST
        while True:
            self.refresh()
            if report is not None:
                report(*self._progress())
            if self.done:
                return
            self._check_deadline(deadline)
            pause = delay if deadline is None else min(delay, max(0.0, deadline - time.monotonic()))
            time.sleep(pause)
            delay = min(delay * 2, _POLL_MAX)

    def _check_deadline(self, deadline: Optional[float]) -> None:
        if deadline is not None and time.monotonic() >= deadline:
            raise TimeoutError(f"job {self.id} is still {self._info['status']} after the wait timed out")
