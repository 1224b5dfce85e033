"""Uploads, downloads, listing, lookup and deletion against a real server."""

from pathlib import Path
from typing import Callable

import numpy as np
import pytest

import rowpool

Upload = Callable[..., rowpool.Dataset]
RNG = np.random.default_rng(14)

DTYPES = ["float16", "float32", "float64", "int8", "int16", "int32", "int64"]
DTYPES += ["uint8", "uint16", "uint32", "uint64", "bool"]


def sample(dtype: str, shape: tuple) -> np.ndarray:
    kind = np.dtype(dtype).kind
    if kind == "b":
        return RNG.integers(0, 2, shape).astype(bool)
    if kind in "iu":
        info = np.iinfo(dtype)
        return RNG.integers(info.min, info.max, shape, dtype=dtype, endpoint=True)
    data = RNG.standard_normal(shape).astype(dtype)
    data.flat[:3] = [np.nan, np.inf, -np.inf]
    return data


def test_upload_describes_the_dataset(upload: Upload, unique_name: str) -> None:
    array = sample("float32", (30, 4, 5))
    dataset = upload(array, name=unique_name)
    assert dataset.name == unique_name
    assert dataset.dtype == np.float32
    assert dataset.shape == (30, 4, 5)
    assert dataset.rows == 30
    assert dataset.row_length == 20
    assert dataset.bytes == array.nbytes
    assert len(dataset.id) > 0


@pytest.mark.parametrize("dtype", DTYPES)
def test_download_returns_what_was_uploaded(upload: Upload, dtype: str) -> None:
    array = sample(dtype, (17, 3))
    downloaded = upload(array).download()
    assert downloaded.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(downloaded, array)


@pytest.mark.parametrize(
    "view",
    [
        lambda a: a[:, ::3],
        lambda a: a[::-2],
        lambda a: a.T,
        lambda a: a.astype(">f8"),
    ],
    ids=["strided-columns", "reversed-rows", "fortran", "big-endian"],
)
def test_arrays_in_any_layout_upload_as_their_values(upload: Upload, view: Callable) -> None:
    array = view(RNG.standard_normal((3000, 120)))
    downloaded = upload(array).download()
    assert downloaded.dtype == np.float64
    assert downloaded.shape == array.shape
    np.testing.assert_array_equal(downloaded, array)


def test_upload_streams_a_npy_file(upload: Upload, tmp_path: Path, unique_name: str) -> None:
    array = sample("int32", (1000, 7))
    path = tmp_path / "data.npy"
    np.save(path, array)
    for source in (path, str(path)):
        dataset = upload(source, name=unique_name)
        assert dataset.shape == (1000, 7)
        np.testing.assert_array_equal(dataset.download(), array)


def test_datasets_lists_and_filters_by_name(client: rowpool.Client, upload: Upload, unique_name: str) -> None:
    named = [upload(np.zeros((2, 2)), name=unique_name) for _ in range(2)]
    other = upload(np.zeros((2, 2)), name=unique_name + "-other")
    assert sorted(d.id for d in client.datasets(name=unique_name)) == sorted(d.id for d in named)
    assert {d.id for d in named + [other]} <= {d.id for d in client.datasets()}


def test_dataset_by_id_or_name(client: rowpool.Client, upload: Upload, unique_name: str) -> None:
    dataset = upload(np.arange(6.0).reshape(3, 2), name=unique_name)
    assert client.dataset(dataset.id).name == unique_name
    assert client.dataset(unique_name).id == dataset.id
    upload(np.zeros(1), name=unique_name)
    with pytest.raises(LookupError, match="2 datasets are named"):
        client.dataset(unique_name)


def test_missing_dataset_is_not_found(client: rowpool.Client) -> None:
    with pytest.raises(rowpool.NotFound) as caught:
        client.dataset("no-such-dataset")
    assert caught.value.status == 404
    assert "no-such-dataset" in caught.value.message


def test_delete_removes_the_dataset(client: rowpool.Client, upload: Upload) -> None:
    dataset = upload(np.ones((4, 4)))
    dataset.delete()
    with pytest.raises(rowpool.NotFound):
        client.dataset(dataset.id)
    with pytest.raises(rowpool.NotFound) as caught:
        dataset.delete()
    assert caught.value.code == "ROWPOOL_DATASET_NOT_FOUND"
    with pytest.raises(rowpool.NotFound):
        dataset.download()


def test_refused_upload_raises_with_the_server_message(client: rowpool.Client) -> None:
    with pytest.raises(rowpool.BadRequest) as caught:
        client.upload(np.float64(1.0))
    assert caught.value.status == 400
    assert caught.value.message
