"""Where a ledger's rows go: partition directories and file chunks, built in one place.

Partitions come from the ledger close time (event time), never from the wall clock, so the same
ledger always lands in the same directory whichever run, runner or worker writes it.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from datetime import datetime, timezone

WINDOW_SECONDS = {"hour": 3600, "ledger_day": 86400}


def partition_path(scheme: str, close_time: int, ledger: int, ledgers_per_file: int) -> str:
    """The Hive-style directory of one ledger's rows, relative to the table directory."""
    if ":" in scheme:  # a user's function, `package.module:function` (validated at start: check_partition_function)
        path = partition_function(scheme)(ledger, close_time)
        problem = _escapes(path)
        if problem:
            raise ValueError(f"partition_by {scheme}: ledger {ledger}: {problem}")
        return path.strip("/")
    if scheme == "ledger_range":
        start, end = chunk_bounds(ledger, ledgers_per_file)
        return f"ledgers/{start}-{end}"
    t = datetime.fromtimestamp(close_time, tz=timezone.utc)
    day = f"year={t.year:04d}/month={t.month:02d}/day={t.day:02d}"
    if scheme == "ledger_day":
        return day
    if scheme == "hour":
        return f"{day}/hour={t.hour:02d}"
    raise ValueError(f"unknown partition scheme {scheme!r}")


def chunk_bounds(ledger: int, ledgers_per_file: int) -> tuple[int, int]:
    """The aligned ledger chunk [start, end] a ledger belongs to (multiples of ledgers_per_file)."""
    start = ledger // ledgers_per_file * ledgers_per_file
    return start, start + ledgers_per_file - 1


def file_group(scheme: str, ledgers_per_file: int, num_shards: int, ledger: int, close_time: int) -> tuple:
    """What a ledger's rows share with every other ledger written to the same file set.

    (partition, first ledger of its chunk, shard): the sink's file key without the table. Rows of
    ledgers with equal groups may travel together; day and hour partitions are also windows.
    """
    return (
        partition_path(scheme, close_time, ledger, ledgers_per_file),
        chunk_bounds(ledger, ledgers_per_file)[0],
        ledger % num_shards,
    )


def file_group_of(sink) -> Callable[[int, int], tuple]:
    """`file_group` with a sink config's choices bound: (ledger, close time) -> file group, picklable."""
    return functools.partial(file_group, sink.partition_by, sink.ledgers_per_file, sink.num_shards)


@functools.lru_cache(maxsize=8)
def partition_function(spec: str) -> Callable[[int, int], str]:
    """``package.module:function`` -> the function, imported once per process (workers import it too)."""
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)


def _escapes(path: object) -> str | None:
    """Why a partition function's result cannot be a directory under the table, or None."""
    if not isinstance(path, str) or not path.strip("/"):
        return f"returned {path!r}, expected a non-empty relative path such as 'block=12'"
    if path.startswith("/") or "://" in path or "\\" in path or any(p in ("..", ".") for p in path.split("/")):
        return f"returned {path!r}, which escapes the table directory (absolute, URL, '.' or '..')"
    return None


def check_partition_function(spec: str, probe_ledger: int = 2, probe_close_time: int = 1_700_000_000) -> str | None:
    """Imports and calls a partition function on a probe ledger; a problem to report, or None."""
    module, _, name = spec.partition(":")
    if not module or not name:
        return f"{spec!r}: expected package.module:function"
    try:
        fn = partition_function(spec)
    except (ImportError, AttributeError) as e:
        return f"{spec!r}: cannot import it: {e}"
    if not callable(fn):
        return f"{spec!r}: not a function"
    try:
        path = fn(probe_ledger, probe_close_time)
    except Exception as e:  # noqa: BLE001 - reported with the function's name
        return f"{spec!r}: calling it on ledger {probe_ledger} failed: {type(e).__name__}: {e}"
    return _escapes(path)
