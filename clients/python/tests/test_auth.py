"""The bearer token, against a server that requires one."""

import numpy as np
import pytest
from conftest import running_server

import rowpool


def test_token_is_sent_and_a_wrong_one_is_refused() -> None:
    with running_server(ROWPOOL_API_TOKEN="s3cret") as url:
        with rowpool.Client(url, token="s3cret") as client:
            dataset = client.upload(np.arange(12.0).reshape(3, 4))
            np.testing.assert_array_equal(dataset.run("sum"), [6.0, 22.0, 38.0])
        for token in (None, "wrong"):
            with rowpool.Client(url, token=token) as client, pytest.raises(rowpool.Unauthorized) as caught:
                client.datasets()
            assert caught.value.status == 401
            assert caught.value.code == "ROWPOOL_UNAUTHORIZED"
