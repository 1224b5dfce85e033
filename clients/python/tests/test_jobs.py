"""Jobs against a real server, each result compared with NumPy's."""

from typing import Callable, Iterator, List, Tuple

import numpy as np
import pytest
from conftest import server_has, server_has_op

import rowpool

Upload = Callable[..., rowpool.Dataset]
RNG = np.random.default_rng(11)
DATA = RNG.standard_normal((500, 64))
DATA[7, 3] = np.nan


@pytest.fixture
def dataset(upload: Upload) -> rowpool.Dataset:
    return upload(DATA)


@pytest.fixture
def long_job(upload: Upload) -> Iterator[rowpool.Job]:
    """A job that runs for seconds on any machine: every row sums the whole 20M-value dataset."""
    slow = upload(RNG.standard_normal((800, 25_000)).astype(np.float32))
    job = slow.submit("expr", expr="sum(data)")
    yield job
    try:
        job.delete()
    except rowpool.NotFound:
        pass


# Pairwise sums in NumPy's order: these are bit-exact.
EXACT = [
    ("sum", {}, lambda x: x.sum(1)),
    ("mean", {}, lambda x: x.mean(1)),
    ("var", {}, lambda x: x.var(1)),
    ("std", {"ddof": 1}, lambda x: x.std(1, ddof=1)),
    ("min", {}, lambda x: x.min(1)),
    ("max", {}, lambda x: x.max(1)),
    ("argmin", {}, lambda x: x.argmin(1)),
    ("argmax", {}, lambda x: x.argmax(1)),
    ("count_nonzero", {}, lambda x: np.count_nonzero(x, axis=1)),
    ("median", {}, lambda x: np.median(x, axis=1)),
]


@pytest.mark.parametrize("op,params,expected", EXACT, ids=[case[0] for case in EXACT])
def test_run_equals_numpy_exactly(dataset: rowpool.Dataset, op: str, params: dict, expected: Callable) -> None:
    result = dataset.run(op, **params)
    want = expected(DATA)
    assert result.dtype == (np.int64 if want.dtype.kind == "i" else np.float64)
    np.testing.assert_array_equal(result, want)


VECTOR = RNG.standard_normal(64)
CLOSE = [
    ("quantile", {"q": 0.3}, lambda x: np.quantile(x, 0.3, axis=1)),
    ("norm", {"ord": 1}, lambda x: np.linalg.norm(x, 1, axis=1)),
    ("norm", {"ord": np.inf}, lambda x: np.linalg.norm(x, np.inf, axis=1)),
    ("dot", {"vector": VECTOR}, lambda x: x @ VECTOR),
    ("cosine", {"vector": VECTOR}, lambda x: x @ VECTOR / np.linalg.norm(x, axis=1) / np.linalg.norm(VECTOR)),
    ("euclidean", {"vector": VECTOR}, lambda x: np.linalg.norm(x - VECTOR, axis=1)),
    ("strided_mean", {}, lambda x: np.array([x.ravel()[:: i + 1].mean() for i in range(len(x))])),
]


@pytest.mark.parametrize(
    "op,params,expected", CLOSE, ids=["quantile", "norm-1", "norm-inf", "dot", "cosine", "euclidean", "strided_mean"]
)
def test_run_equals_numpy(dataset: rowpool.Dataset, op: str, params: dict, expected: Callable) -> None:
    np.testing.assert_allclose(dataset.run(op, **params), expected(DATA), rtol=1e-9)


def test_rows_select_a_range_as_python_slices_do(dataset: rowpool.Dataset) -> None:
    np.testing.assert_array_equal(dataset.run("std", ddof=1, rows=slice(100, 200)), DATA[100:200].std(1, ddof=1))
    np.testing.assert_array_equal(dataset.run("sum", rows=slice(-30, None)), DATA[-30:].sum(1))


def test_top_returns_the_best_rows_as_a_structured_array(dataset: rowpool.Dataset) -> None:
    result = dataset.run("max", top=5)
    assert result.dtype.names == ("index", "value")
    order = np.argsort(-np.where(np.isnan(DATA.max(1)), -np.inf, DATA.max(1)), kind="stable")[:5]
    np.testing.assert_array_equal(result["index"], order)
    np.testing.assert_array_equal(result["value"], DATA.max(1)[order])


def top_k(scores: np.ndarray, k: int, largest: bool) -> np.ndarray:
    return np.argsort(-scores if largest else scores, kind="stable")[:k]


def test_search_equals_numpy_top_k(upload: Upload) -> None:
    data = RNG.standard_normal((2000, 32)).astype(np.float32)
    dataset = upload(data)
    query = data[42].astype(np.float64) + 0.01
    rows = data.astype(np.float64)
    cosine = rows @ query / np.linalg.norm(rows, axis=1) / np.linalg.norm(query)
    indices, values = dataset.search(query, k=10)
    np.testing.assert_array_equal(indices, top_k(cosine, 10, largest=True))
    np.testing.assert_allclose(values, cosine[indices], rtol=1e-9)
    assert indices[0] == 42 and indices.dtype == np.int64 and values.dtype == np.float64

    distance = np.linalg.norm(rows - query, axis=1)
    indices, values = dataset.search(query, k=7, op="euclidean", largest=False)
    np.testing.assert_array_equal(indices, top_k(distance, 7, largest=False))
    np.testing.assert_allclose(values, distance[indices], rtol=1e-9)


def test_euclidean_search_is_nearest_first_by_default(dataset: rowpool.Dataset) -> None:
    job = dataset.submit("euclidean", top={"k": 3}, vector=VECTOR)
    if job.info["top"]["largest"]:
        pytest.skip("this server ranks euclidean largest-first unless told otherwise")
    indices, _ = dataset.search(VECTOR, k=3, op="euclidean")
    np.testing.assert_array_equal(indices, top_k(np.linalg.norm(DATA - VECTOR, axis=1), 3, largest=False))


def test_submit_returns_a_job_to_wait_for(client: rowpool.Client, dataset: rowpool.Dataset) -> None:
    job = dataset.submit("mean", rows=slice(10, 60))
    assert job.dataset_id == dataset.id and job.op == "mean"
    assert job.wait(timeout=30) is job
    assert job.status == "succeeded"
    assert job.progress == rowpool.Progress(50, 50)
    np.testing.assert_array_equal(job.result(), DATA[10:60].mean(1))
    assert client.job(job.id).status == "succeeded"
    job.delete()
    with pytest.raises(rowpool.NotFound):
        client.job(job.id)


def test_run_without_waiting_returns_the_job(dataset: rowpool.Dataset) -> None:
    job = dataset.run("sum", wait=False)
    assert isinstance(job, rowpool.Job)
    np.testing.assert_array_equal(job.wait().result(), DATA.sum(1))
    job.delete()


def test_unknown_op_is_a_bad_request_naming_the_ops(dataset: rowpool.Dataset) -> None:
    with pytest.raises(rowpool.BadRequest) as caught:
        dataset.run("nope")
    assert caught.value.status == 400
    assert "sum" in caught.value.message and "op" in caught.value.message


def test_wrong_vector_length_is_a_bad_request(dataset: rowpool.Dataset) -> None:
    with pytest.raises(rowpool.RowpoolError) as caught:
        dataset.search(VECTOR[:10])
    assert caught.value.status == 400
    assert caught.value.code == "ROWPOOL_INVALID_JOB"
    assert "10" in caught.value.message and "64" in caught.value.message


def test_job_on_a_deleted_dataset_is_not_found(dataset: rowpool.Dataset) -> None:
    dataset.delete()
    with pytest.raises(rowpool.NotFound) as caught:
        dataset.run("sum")
    assert caught.value.code == "ROWPOOL_DATASET_NOT_FOUND"


def test_long_job_times_out_then_is_cancelled(server_url: str, long_job: rowpool.Job) -> None:
    with pytest.raises(rowpool.Conflict) as caught:
        long_job.result()
    assert caught.value.status == 409
    with pytest.raises(TimeoutError):
        long_job.wait(timeout=0.2)
    assert long_job.progress.rows_total == 800
    long_job.cancel()
    with pytest.raises(rowpool.JobCancelled):
        long_job.wait(timeout=30)
    if server_has(server_url, "POST", "/v1/jobs/x/cancel"):
        assert long_job.refresh().status == "cancelled"
    else:
        with pytest.raises(rowpool.NotFound):
            long_job.refresh()


def test_deleting_the_dataset_cancels_its_job(upload: Upload) -> None:
    slow = upload(RNG.standard_normal((50_000, 100)).astype(np.float16))
    job = slow.submit("strided_mean")
    slow.delete()
    with pytest.raises(rowpool.JobCancelled) as caught:
        job.wait(timeout=30)
    assert caught.value.job is job
    assert job.status == "cancelled"


def test_progress_reports_rows_up_to_the_total(long_job: rowpool.Job) -> None:
    seen: List[Tuple[int, int]] = []
    long_job.wait(timeout=120, progress=lambda done, total: seen.append((done, total)))
    done = [d for d, _ in seen]
    assert seen[-1] == (800, 800)
    assert done == sorted(done)
    assert any(0 < d < 800 for d in done)


def test_progress_bar_draws_with_tqdm(dataset: rowpool.Dataset, capsys: pytest.CaptureFixture) -> None:
    np.testing.assert_array_equal(dataset.run("sum", progress=True), DATA.sum(1))
    err = capsys.readouterr().err
    assert "100%" in err and "500/500" in err


@pytest.fixture
def events_route(server_url: str) -> None:
    if not server_has(server_url, "GET", "/v1/jobs/x/events"):
        pytest.skip("this server has no GET /v1/jobs/{id}/events yet")


def test_progress_follows_the_event_stream(events_route: None, long_job: rowpool.Job) -> None:
    seen: List[int] = []
    long_job.wait(timeout=120, progress=lambda done, total: seen.append(done))
    assert long_job._api.has_events is True
    assert seen[-1] == 800 and len(seen) > 2


def needs_expr(server_url: str) -> None:
    if not server_has_op(server_url, "expr"):
        pytest.skip("this server has no expr op yet")


def test_expr_equals_numpy(server_url: str, dataset: rowpool.Dataset) -> None:
    needs_expr(server_url)
    np.testing.assert_array_equal(dataset.expr("sum(x)"), DATA.sum(1))
    result = dataset.expr("dot(x, v) * alpha", vector=VECTOR, args={"alpha": 0.5}, rows=slice(0, 100))
    np.testing.assert_allclose(result, DATA[:100] @ VECTOR * 0.5, rtol=1e-9)


def test_expr_error_in_a_row_fails_the_job(server_url: str, upload: Upload) -> None:
    needs_expr(server_url)
    dataset = upload(np.ones((5, 3)))
    with pytest.raises(rowpool.JobFailed) as caught:
        dataset.expr("x[i]")
    assert caught.value.message
