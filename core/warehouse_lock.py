"""Opening the DuckDB warehouse when another process may hold its lock for a moment."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import duckdb
from tenacity import retry, retry_if_exception, stop_after_delay, wait_exponential

from core import env
from core.errors import TierwiseError

T = TypeVar("T")


def _is_lock_error(exc: BaseException) -> bool:
    return isinstance(exc, duckdb.IOException) and "lock" in str(exc).lower()


def open_with_retry(opener: Callable[[], T], timeout_s: float | None = None) -> T:
    """Call `opener` until DuckDB's file lock is free (a reader or writer elsewhere), then give up clearly."""
    timeout_s = timeout_s if timeout_s is not None else env.lock_timeout_s()
    wrapped = retry(
        retry=retry_if_exception(_is_lock_error),
        wait=wait_exponential(multiplier=0.05, max=2),
        stop=stop_after_delay(timeout_s),
        reraise=True,
    )(opener)
    try:
        return wrapped()
    except duckdb.IOException as exc:
        if _is_lock_error(exc):
            raise TierwiseError(
                f"the warehouse is locked by another process for over {timeout_s:.0f}s (a pipeline run writing it? "
                f"TIERWISE_LOCK_TIMEOUT waits longer): {str(exc).splitlines()[0]}"
            ) from None
        raise


@contextmanager
def read_only(path: Path, timeout_s: float | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the warehouse read-only, waiting out a writer's lock (a build holds it for its whole run) as
    long as writers wait for readers; failures are one-line errors."""
    if not path.exists():
        raise TierwiseError(f"no warehouse at {path}: run `tierwise run` first")
    try:
        con = open_with_retry(lambda: duckdb.connect(str(path), read_only=True), timeout_s=timeout_s)
    except duckdb.IOException as exc:
        raise TierwiseError(f"cannot open {path} read-only: {exc}") from None
    try:
        yield con
    finally:
        con.close()
