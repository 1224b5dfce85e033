"""Job requests as the server takes them, built from Python and NumPy values."""

from __future__ import annotations

import math
from typing import Any, Dict, Mapping, Optional, Union

import numpy as np

#: ``top=k``, or ``top={"k": k, "largest": bool}``.
Top = Union[int, Mapping[str, Any]]


def to_json(value: Any) -> Any:
    """NumPy arrays and scalars as plain JSON values (arrays become lists)."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Mapping):
        return {str(key): to_json(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(item) for item in value]
    return value


def job_params(params: Mapping[str, Any]) -> Dict[str, Any]:
    out = {key: to_json(value) for key, value in params.items() if value is not None}
    # The server spells the infinity norm "inf"; NumPy users write np.inf.
    if isinstance(out.get("ord"), float) and math.isinf(out["ord"]) and out["ord"] > 0:
        out["ord"] = "inf"
    return out


def row_range(rows: Optional[slice], row_count: int) -> Optional[Dict[str, int]]:
    """A slice of the dataset's rows (negative and open ends as in Python) as the server's start/end."""
    if rows is None:
        return None
    if not isinstance(rows, slice):
        raise TypeError(f"rows must be a slice, e.g. slice(0, 1000); got {type(rows).__name__}")
    start, stop, step = rows.indices(row_count)
    if step != 1:
        raise ValueError("rows must be a contiguous range: a slice without a step")
    return {"start": start, "end": max(start, stop)}


def top_spec(top: Optional[Top]) -> Optional[Dict[str, Any]]:
    if top is None:
        return None
    if isinstance(top, Mapping):
        return dict(top)
    return {"k": int(top)}


def job_body(
    op: str,
    params: Mapping[str, Any],
    rows: Optional[slice],
    row_count: int,
    top: Optional[Top],
) -> Dict[str, Any]:
    body: Dict[str, Any] = {"op": op}
    converted = job_params(params)
    if converted:
        body["params"] = converted
    row_spec = row_range(rows, row_count)
    if row_spec is not None:
        body["rows"] = row_spec
    top_body = top_spec(top)
    if top_body is not None:
        body["top"] = top_body
    return body
