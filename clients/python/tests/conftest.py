"""A real rowpool server for the tests: the repository's compiled server on a free loopback port."""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator, List, Optional

import httpx
import pytest

import rowpool

REPO = Path(__file__).resolve().parents[3]
SERVER = REPO / "dist" / "server.js"
LISTENING = re.compile(r"Server listening at (http://127\.0\.0\.1:\d+)")
START_SECONDS = 60


def _build_if_missing() -> None:
    if not SERVER.exists():
        subprocess.run(["npm", "run", "build"], cwd=REPO, check=True)


def _listen_address(log: Path, server: subprocess.Popen) -> str:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        match = LISTENING.search(log.read_text())
        if match:
            return match.group(1)
        if server.poll() is not None:
            raise RuntimeError(f"the server exited with {server.returncode}:\n{log.read_text()}")
        time.sleep(0.05)
    raise RuntimeError(f"the server did not listen within {START_SECONDS} s:\n{log.read_text()}")


def _wait_ready(url: str) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if httpx.get(f"{url}/readyz").status_code == 200:
            return
        time.sleep(0.05)
    raise RuntimeError("the server did not become ready")


@contextmanager
def running_server(**settings: str) -> Iterator[str]:
    """Starts the compiled server with these environment settings; yields its URL, stops it on exit."""
    _build_if_missing()
    env = {
        **os.environ,
        "HOST": "127.0.0.1",
        "PORT": "0",
        "ROWPOOL_MEMORY_LIMIT": "1GiB",
        "ROWPOOL_THREADS": "2",
        "ROWPOOL_SHUTDOWN_GRACE": "0",
        "LOG_LEVEL": "info",
    }
    env.pop("ROWPOOL_API_TOKEN", None)
    env.update(settings)
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "server.log"
        with open(log, "wb") as out:
            server = subprocess.Popen(["node", str(SERVER)], cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            url = _listen_address(log, server)
            _wait_ready(url)
            yield url
        finally:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    with running_server() as url:
        yield url


@pytest.fixture
def client(server_url: str) -> Iterator[rowpool.Client]:
    with rowpool.Client(server_url) as c:
        yield c


def server_has(url: str, method: str, path: str) -> bool:
    """Whether the server routes ``method path``: its router's own 404 carries no rowpool error code."""
    response = httpx.request(method, f"{url}{path}")
    return not (response.status_code == 404 and "code" not in response.json())


def server_has_op(url: str, op: str) -> bool:
    """Whether the server knows ``op``: an unknown op is a 400 before the (missing) dataset is looked up."""
    response = httpx.post(f"{url}/v1/datasets/missing/jobs", json={"op": op})
    return response.status_code == 404


@pytest.fixture
def upload(client: rowpool.Client) -> Iterator[Callable[..., rowpool.Dataset]]:
    """Uploads like ``client.upload`` and deletes what it uploaded when the test ends."""
    made: List[rowpool.Dataset] = []

    def make(data: Any, name: Optional[str] = None) -> rowpool.Dataset:
        dataset = client.upload(data, name=name)
        made.append(dataset)
        return dataset

    yield make
    for dataset in made:
        try:
            dataset.delete()
        except rowpool.NotFound:
            pass


@pytest.fixture
def unique_name() -> str:
    return f"test-{uuid.uuid4()}"
