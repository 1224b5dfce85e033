"""How a Job reads the event stream and falls back on servers without the newer routes.

The server these tests start may not have those routes yet, so an in-process httpx transport plays them.
"""

import json
from typing import Callable, Dict, List, Tuple

import httpx
import pytest

import rowpool
from rowpool._http import Api

JOB = {
    "id": "j1",
    "datasetId": "d1",
    "op": "sum",
    "status": "running",
    "progress": {"rowsDone": 0, "rowsTotal": 100},
}
ROUTE_MISSING = {"message": "Route not found", "error": "Not Found", "statusCode": 404}


def job_with(handler: Callable[[httpx.Request], httpx.Response]) -> Tuple[rowpool.Job, List[str]]:
    calls: List[str] = []

    def record(request: httpx.Request) -> httpx.Response:
        calls.append(f"{request.method} {request.url.path}")
        return handler(request)

    api = Api(httpx.Client(base_url="http://rowpool.test", transport=httpx.MockTransport(record)))
    return rowpool.Job(api, dict(JOB)), calls


def sse(*events: Tuple[str, Dict]) -> httpx.Response:
    body = "".join(f"event: {name}\ndata: {json.dumps(data)}\n\n" for name, data in events)
    return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body.encode())


def ended(status: str, **extra: object) -> Dict:
    return {**JOB, "status": status, "progress": {"rowsDone": 100, "rowsTotal": 100}, **extra}


def test_wait_reports_progress_events_and_takes_the_end_state() -> None:
    stream = sse(
        ("progress", {"rowsDone": 30, "rowsTotal": 100}),
        ("progress", {"rowsDone": 70, "rowsTotal": 100}),
        ("end", ended("succeeded")),
    )
    job, calls = job_with(lambda request: stream)
    seen: List[Tuple[int, int]] = []
    job.wait(progress=lambda done, total: seen.append((done, total)))
    assert seen == [(30, 100), (70, 100), (100, 100)]
    assert job.done and job.info["status"] == "succeeded"
    assert calls == ["GET /v1/jobs/j1/events"]


def test_a_failed_end_event_raises_with_the_server_reason() -> None:
    job, _ = job_with(lambda request: sse(("end", ended("failed", error={"message": "row 3: index 3 out of range"}))))
    with pytest.raises(rowpool.JobFailed, match="row 3"):
        job.wait()


def test_without_the_events_route_wait_polls_the_job() -> None:
    answers = iter([JOB, ended("cancelled", error={"message": "dataset d1 was deleted"})])

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/events"):
            return httpx.Response(404, json=ROUTE_MISSING)
        return httpx.Response(200, json=next(answers))

    job, calls = job_with(handler)
    with pytest.raises(rowpool.JobCancelled, match="was deleted"):
        job.wait()
    assert calls == ["GET /v1/jobs/j1/events", "GET /v1/jobs/j1", "GET /v1/jobs/j1"]


def test_a_missing_job_on_the_events_route_is_not_taken_for_a_missing_route() -> None:
    missing = {"statusCode": 404, "error": "Not Found", "message": "job j1 not found", "code": "ROWPOOL_JOB_NOT_FOUND"}
    job, _ = job_with(lambda request: httpx.Response(404, json=missing))
    with pytest.raises(rowpool.NotFound, match="job j1 not found"):
        job.wait()


def test_a_stream_that_ends_early_falls_back_to_polling() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/events"):
            return sse(("progress", {"rowsDone": 10, "rowsTotal": 100}))
        return httpx.Response(200, json=ended("succeeded"))

    job, calls = job_with(handler)
    job.wait()
    assert calls == ["GET /v1/jobs/j1/events", "GET /v1/jobs/j1"]


def test_cancel_posts_to_the_cancel_route() -> None:
    job, calls = job_with(lambda request: httpx.Response(200, json=ended("cancelled")))
    job.cancel()
    assert calls == ["POST /v1/jobs/j1/cancel"]
    assert job.done


def test_cancel_deletes_the_job_on_servers_without_the_route() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return httpx.Response(404, json=ROUTE_MISSING)
        if request.method == "GET":
            return httpx.Response(200, json=JOB)
        return httpx.Response(204)

    job, calls = job_with(handler)
    job.cancel()
    assert calls == ["POST /v1/jobs/j1/cancel", "GET /v1/jobs/j1", "DELETE /v1/jobs/j1"]
    assert job.info["status"] == "cancelled"


def test_cancel_leaves_an_ended_job_alone_on_servers_without_the_route() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return httpx.Response(404, json=ROUTE_MISSING)
        return httpx.Response(200, json=ended("succeeded"))

    job, calls = job_with(handler)
    job.cancel()
    job.cancel()
    assert calls == ["POST /v1/jobs/j1/cancel", "GET /v1/jobs/j1", "GET /v1/jobs/j1"]
    assert job.info["status"] == "succeeded"
