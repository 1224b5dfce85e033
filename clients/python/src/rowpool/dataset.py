"""A dataset on the server, and the jobs run on it."""

from __future__ import annotations

from typing import Any, Dict, Literal, Mapping, Optional, Tuple, Union, overload

import httpx
import numpy as np
from numpy.typing import ArrayLike

from ._jobspec import Top, job_body
from ._npy import decode_npy
from ._progress import ProgressArg
from ._resource import Resource
from .job import Job

# Short jobs answer in the submitting request; longer ones are then followed by their events.
_SUBMIT_WAIT_SECONDS = 10.0


class Dataset(Resource):
    """An array held in the server's shared memory; row ``i`` is ``data[i]`` flattened."""

    @property
    def name(self) -> Optional[str]:
        return self._info.get("name")

    @property
    def dtype(self) -> np.dtype[Any]:
        return np.dtype(str(self._info["dtype"]))

    @property
    def shape(self) -> Tuple[int, ...]:
        return tuple(int(n) for n in self._info["shape"])

    @property
    def rows(self) -> int:
        return int(self._info["rows"])

    @property
    def row_length(self) -> int:
        return int(self._info["rowLength"])

    @property
    def bytes(self) -> int:
        return int(self._info["bytes"])

    @property
    def created_at(self) -> str:
        return str(self._info["createdAt"])

    def __repr__(self) -> str:
        return f"Dataset(id={self.id!r}, name={self.name!r}, dtype={self.dtype.name}, shape={self.shape})"

    def delete(self) -> None:
        """Deletes the dataset, cancelling its running jobs; its memory is released at once."""
        self._api.request("DELETE", f"/v1/datasets/{self.id}")

    def download(self) -> np.ndarray:
        """The stored array (little-endian, C order), read from the ``.npy`` stream straight into one buffer."""
        with self._api.stream("GET", f"/v1/datasets/{self.id}/data") as response:
            return decode_npy(response.iter_bytes())

    def submit(self, op: str, rows: Optional[slice] = None, top: Optional[Top] = None, **params: Any) -> Job:
        """Starts a job and returns at once; ``params`` are the op's (ddof, ord, q, vector, ...)."""
        return self._submit(job_body(op, params, rows, self.rows, top), 0.0)

    @overload
    def run(
        self,
        op: str,
        rows: Optional[slice] = ...,
        top: Optional[Top] = ...,
        wait: Literal[True] = ...,
        progress: ProgressArg = ...,
        **params: Any,
    ) -> np.ndarray: ...

    @overload
    def run(
        self,
        op: str,
        rows: Optional[slice] = ...,
        top: Optional[Top] = ...,
        *,
        wait: Literal[False],
        progress: ProgressArg = ...,
        **params: Any,
    ) -> Job: ...

    def run(
        self,
        op: str,
        rows: Optional[slice] = None,
        top: Optional[Top] = None,
        wait: bool = True,
        progress: ProgressArg = False,
        **params: Any,
    ) -> Union[np.ndarray, Job]:
        """Runs ``op`` on every row in ``rows`` and returns its result, like ``f(data[rows], axis=1)``.

        The job is deleted once its result is read; ``wait=False`` (or ``submit``) returns the Job instead.
        """
        body = job_body(op, params, rows, self.rows, top)
        if not wait:
            return self._submit(body, 0.0)
        return self._run(body, progress)

    def expr(
        self,
        text: str,
        vector: Optional[ArrayLike] = None,
        args: Optional[Mapping[str, float]] = None,
        rows: Optional[slice] = None,
        top: Optional[Top] = None,
        progress: ProgressArg = False,
    ) -> np.ndarray:
        """Evaluates a per-row expression; one float64 per row.

        In the expression ``x`` is the row, ``v`` the vector and the keys of ``args`` their numbers.
        """
        vector_list = None if vector is None else np.asarray(vector, dtype=np.float64).ravel()
        body = job_body("expr", {"expr": text, "vector": vector_list, "args": args}, rows, self.rows, top)
        return self._run(body, progress)

    def search(
        self,
        vector: ArrayLike,
        k: int = 10,
        op: str = "cosine",
        largest: Optional[bool] = None,
        rows: Optional[slice] = None,
        progress: ProgressArg = False,
    ) -> Tuple[np.ndarray, np.ndarray]:
        """The ``k`` best rows for ``op`` (cosine, dot, euclidean) against ``vector``: (indices, values), best first.

        ``largest`` defaults to the server's choice for the op.
        """
        top: Dict[str, Any] = {"k": k} if largest is None else {"k": k, "largest": largest}
        query = np.asarray(vector, dtype=np.float64).ravel()
        result = self._run(job_body(op, {"vector": query}, rows, self.rows, top), progress)
        return np.ascontiguousarray(result["index"]), np.ascontiguousarray(result["value"])

    def _run(self, body: Dict[str, Any], progress: ProgressArg) -> np.ndarray:
        job = self._submit(body, 0.0 if progress is not False else _SUBMIT_WAIT_SECONDS)
        try:
            job.wait(progress=progress)
        except KeyboardInterrupt:
            job.cancel()
            raise
        result = job.result()
        job.delete()
        return result

    def _submit(self, body: Dict[str, Any], wait: float) -> Job:
        timeout = self._api.http.timeout
        read = None if timeout.read is None else timeout.read + wait
        info = self._api.json(
            "POST",
            f"/v1/datasets/{self.id}/jobs",
            json=body,
            params={"wait": wait} if wait else None,
            timeout=httpx.Timeout(timeout.connect, read=read, write=timeout.write, pool=timeout.pool),
        )
        return Job(self._api, info)
