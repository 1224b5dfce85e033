"""The entry point: a connection to one rowpool server, and the datasets on it."""

from __future__ import annotations

import os
from types import TracebackType
from typing import Any, BinaryIO, Dict, Iterator, List, Optional, Type, Union
from urllib.parse import quote

import httpx
import numpy as np
from numpy.typing import ArrayLike

from ._http import NPY_TYPE, Api
from ._npy import CHUNK_BYTES, encode_npy
from .dataset import Dataset
from .errors import NotFound
from .job import Job

PathLike = Union[str, "os.PathLike[str]"]


class Client:
    """A rowpool server at ``url``; use it as a context manager, or call ``close()``."""

    def __init__(
        self,
        url: str,
        token: Optional[str] = None,
        timeout: float = 30.0,
    ) -> None:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        self._api = Api(httpx.Client(base_url=url, headers=headers, timeout=timeout))

    def close(self) -> None:
        self._api.http.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        traceback: Optional[TracebackType],
    ) -> None:
        self.close()

    def upload(self, data: Union[ArrayLike, PathLike], name: Optional[str] = None) -> Dataset:
        """Streams an array, or a ``.npy`` file given by its path, to the server; nothing is copied whole."""
        params = {"name": name} if name is not None else None
        if isinstance(data, (str, os.PathLike)):
            with open(data, "rb") as file:
                size = os.fstat(file.fileno()).st_size
                return self._upload(size, _file_chunks(file), params)
        size, chunks = encode_npy(np.asarray(data))
        return self._upload(size, chunks, params)

    def datasets(self, name: Optional[str] = None) -> List[Dataset]:
        """Every dataset on the server, or those called ``name``."""
        params = {"name": name} if name is not None else None
        found = self._api.json("GET", "/v1/datasets", params=params)["datasets"]
        # Servers without the name filter answer with every dataset.
        return [Dataset(self._api, info) for info in found if name is None or info.get("name") == name]

    def dataset(self, id_or_name: str) -> Dataset:
        """The dataset with this id, else the one dataset with this name."""
        try:
            return Dataset(self._api, self._api.json("GET", f"/v1/datasets/{quote(id_or_name, safe='')}"))
        except NotFound:
            named = self.datasets(name=id_or_name)
        if len(named) == 1:
            return named[0]
        if not named:
            raise NotFound(404, "ROWPOOL_DATASET_NOT_FOUND", f"no dataset has the id or name {id_or_name!r}")
        ids = ", ".join(dataset.id for dataset in named)
        raise LookupError(f"{len(named)} datasets are named {id_or_name!r} ({ids}); pick one by id")

    def job(self, job_id: str) -> Job:
        return Job(self._api, self._api.json("GET", f"/v1/jobs/{quote(job_id, safe='')}"))

    def _upload(self, size: int, chunks: Iterator[Any], params: Optional[Dict[str, str]]) -> Dataset:
        info = self._api.json(
            "POST",
            "/v1/datasets",
            params=params,
            content=chunks,
            headers={"content-type": NPY_TYPE, "content-length": str(size)},
        )
        return Dataset(self._api, info)


def _file_chunks(file: BinaryIO) -> Iterator[bytes]:
    return iter(lambda: file.read(CHUNK_BYTES), b"")
