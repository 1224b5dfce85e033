"""Job requests built from Python values: slices, NumPy params, top."""

import numpy as np
import pytest

from rowpool._jobspec import job_body


def test_slices_resolve_like_python() -> None:
    assert job_body("sum", {}, slice(-10, None), 100, None) == {"op": "sum", "rows": {"start": 90, "end": 100}}
    assert job_body("sum", {}, slice(None, 500), 100, None)["rows"] == {"start": 0, "end": 100}
    assert job_body("sum", {}, slice(50, 10), 100, None)["rows"] == {"start": 50, "end": 50}


def test_stepped_slices_are_refused() -> None:
    with pytest.raises(ValueError, match="without a step"):
        job_body("sum", {}, slice(0, 10, 2), 100, None)


def test_numpy_params_become_json() -> None:
    body = job_body("dot", {"vector": np.array([1.5, 2.0], dtype=np.float32), "ddof": np.int64(1)}, None, 5, 3)
    assert body == {"op": "dot", "params": {"vector": [1.5, 2.0], "ddof": 1}, "top": {"k": 3}}
    assert type(body["params"]["ddof"]) is int


def test_infinity_norm_is_spelled_as_the_server_spells_it() -> None:
    assert job_body("norm", {"ord": np.inf}, None, 5, None)["params"] == {"ord": "inf"}
