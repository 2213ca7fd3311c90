"""Where a ledger's rows go: partition directories and file chunks, built in one place.

Partitions come from the ledger close time (event time), never from the wall clock, so the same
ledger always lands in the same directory whichever run, runner or worker writes it.

Every scheme is Hive-style (``key=value`` directories), so Spark, DuckDB, Polars, pandas/pyarrow
and BigQuery's ``--hive_partitioning_mode=AUTO`` all discover the partition columns. The
``ledger_range`` scheme's column is a **string** ``"{start}-{end}"`` (e.g. ``1410000-1419999``):
every reader infers the same type for it (an integer key could not carry both ends); order by
``ledger_sequence``/``sequence``, not by this column, since the numbers are not zero-padded.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from datetime import datetime, timezone

from beam_pipeline.util.partition_fn import escapes, partition_function

WINDOW_SECONDS = {"hour": 3600, "ledger_day": 86400}
RANGE_KEY = "ledger_range"
# Archives written before the Hive-style ranges: ``{table}/ledgers/{start}-{end}/`` (see `migrate`).
LEGACY_RANGE = re.compile(r"^(?:ledgers/)?(\d+)-(\d+)$")
_RANGE = re.compile(rf"^{RANGE_KEY}=(\d+)-(\d+)$")


def partition_path(scheme: str, close_time: int, ledger: int, ledgers_per_file: int) -> str:
    """The Hive-style directory of one ledger's rows, relative to the table directory."""
    if ":" in scheme:  # a user's function, `package.module:function` (validated at start: check_partition_function)
        path = partition_function(scheme)(ledger, close_time)
        problem = escapes(path)
        if problem:
            raise ValueError(f"partition_by {scheme}: ledger {ledger}: {problem}")
        return path.strip("/")
    if scheme == "ledger_range":
        start, end = chunk_bounds(ledger, ledgers_per_file)
        return f"{RANGE_KEY}={start}-{end}"
    t = datetime.fromtimestamp(close_time, tz=timezone.utc)
    day = f"year={t.year:04d}/month={t.month:02d}/day={t.day:02d}"
    if scheme == "ledger_day":
        return day
    if scheme == "hour":
        return f"{day}/hour={t.hour:02d}"
    raise ValueError(f"unknown partition scheme {scheme!r}")


def range_partition(partition: str) -> tuple[int, int] | None:
    """(start, end) of a ``ledger_range=START-END`` partition directory; None for any other."""
    m = _RANGE.match(partition)
    return (int(m[1]), int(m[2])) if m else None


def legacy_range_partition(partition: str) -> tuple[int, int] | None:
    """(start, end) of a pre-Hive ``ledgers/START-END`` (or bare ``START-END``) directory; else None."""
    m = LEGACY_RANGE.match(partition)
    return (int(m[1]), int(m[2])) if m and int(m[1]) <= int(m[2]) else None


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
