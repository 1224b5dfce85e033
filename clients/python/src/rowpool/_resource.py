"""What a dataset and a job share: the API they were read from and their JSON as last received."""

from __future__ import annotations

from typing import Any, Dict

from ._http import Api


class Resource:
    def __init__(self, api: Api, info: Dict[str, Any]) -> None:
        self._api = api
        self._info = info

    @property
    def id(self) -> str:
        return str(self._info["id"])

    @property
    def info(self) -> Dict[str, Any]:
        """The JSON as last received (no request)."""
        return dict(self._info)
