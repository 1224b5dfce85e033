"""Where a job's progress goes: nowhere, a tqdm bar, or the caller's own function."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator, Optional, Union

#: ``progress=True`` draws a tqdm bar; a function is called with (rows_done, rows_total).
ProgressArg = Union[bool, Callable[[int, int], None]]
Report = Callable[[int, int], None]


@contextmanager
def reporter(progress: ProgressArg, label: str) -> Iterator[Optional[Report]]:
    if progress is False:
        yield None
    elif progress is True:
        with _tqdm_bar(label) as report:
            yield report
    else:
        yield progress


@contextmanager
def _tqdm_bar(label: str) -> Iterator[Report]:
    try:
        from tqdm.auto import tqdm
    except ImportError:
        raise ImportError("progress=True needs tqdm: pip install 'rowpool[progress]'") from None
    bar = tqdm(total=None, unit="row", unit_scale=True, desc=label)

    def report(done: int, total: int) -> None:
        if bar.total != total:
            bar.total = total
        bar.update(done - bar.n)

    try:
        yield report
    finally:
        bar.close()
