"""One HTTP connection pool to the server, turning error answers into exceptions."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator, Optional

import httpx

from .errors import error_from_response

NPY_TYPE = "application/x-npy"


class Api:
    """What datasets and jobs share: the httpx client, and what this server turned out to support."""

    def __init__(self, http: httpx.Client) -> None:
        self.http = http
        # Routes newer than some servers: None until tried, then whether the server has them.
        self.has_events: Optional[bool] = None
        self.has_cancel: Optional[bool] = None

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        response = self.http.request(method, path, **kwargs)
        if response.is_error:
            raise error_from_response(response)
        return response

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        return self.request(method, path, **kwargs).json()

    @contextmanager
    def stream(self, method: str, path: str, **kwargs: Any) -> Iterator[httpx.Response]:
        with self.http.stream(method, path, **kwargs) as response:
            if response.is_error:
                response.read()
                raise error_from_response(response)
            yield response
