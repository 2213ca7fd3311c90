"""File names that say what they hold, and the rule that makes reruns exact.

Every Parquet file belongs to a *file set*: the files one run wrote for one table, one partition
directory and one contiguous ledger range (its *coverage*). The name carries all of it:

    {table}_{first}-{last}_{run_id}_{shard:03d}-{part:04d}.parquet
    transactions_1410048-1410367_r20261125T181500123456Z7f3a_000-0000.parquet

A set is authoritative for every ledger of its coverage, even ledgers that have no rows in that
directory. Run ids sort by start time, and within one directory **the newest set covering a ledger
wins**. When a run commits a directory it materialises that rule: older sets whose ledgers are all
covered by newer ones are deleted; older sets that are only partly covered are rewritten to the
rows still live (as new sets of this run, with the live coverage) and then deleted. A rerun, an
overlapping run or the rerun after a crash therefore leaves every ledger's rows exactly once, and
disjoint runs never touch each other's files.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone

_NAME = re.compile(
    r"^(?P<table>[a-z_][a-z0-9_]*)_(?P<first>\d+)-(?P<last>\d+)_(?P<run>r\d{8}T\d{12}Z[0-9a-f]{4})_"
    r"(?P<shard>\d{3})-(?P<part>\d{4})\.parquet$"
)

Interval = tuple[int, int]
_RUN_ID = re.compile(r"^r\d{8}T\d{12}Z[0-9a-f]{4}$")


def is_run_id(value: str) -> bool:
    """Whether `value` has the form file names need (``new_run_id``'s), so later runs recognise its files."""
    return bool(_RUN_ID.match(value))


def new_run_id(now: datetime | None = None) -> str:
    """A run id that sorts by start time: ``r20261125T181500123456Z7f3a``."""
    now = now or datetime.now(timezone.utc)
    return "r" + now.strftime("%Y%m%dT%H%M%S%f") + "Z" + secrets.token_hex(2)


def file_name(table: str, coverage: Interval, run_id: str, shard: int, part: int) -> str:
    return f"{table}_{coverage[0]}-{coverage[1]}_{run_id}_{shard:03d}-{part:04d}.parquet"


@dataclass(frozen=True, order=True)
class FileName:
    run_id: str
    first: int
    last: int
    table: str
    shard: int
    part: int

    @property
    def coverage(self) -> Interval:
        return (self.first, self.last)

    @property
    def set_key(self) -> tuple[str, int, int]:
        return (self.run_id, self.first, self.last)


def parse_file_name(name: str) -> FileName | None:
    """Parses a base name written by `file_name`; None for anything else (foreign files)."""
    m = _NAME.match(name)
    if not m:
        return None
    return FileName(
        run_id=m["run"],
        first=int(m["first"]),
        last=int(m["last"]),
        table=m["table"],
        shard=int(m["shard"]),
        part=int(m["part"]),
    )


def subtract(intervals: list[Interval], cut: Interval) -> list[Interval]:
    """Removes `cut` from a list of disjoint closed intervals."""
    out = []
    for a, b in intervals:
        if cut[1] < a or cut[0] > b:
            out.append((a, b))
            continue
        if a < cut[0]:
            out.append((a, cut[0] - 1))
        if b > cut[1]:
            out.append((cut[1] + 1, b))
    return out


def live_coverage(sets: dict[tuple[str, int, int], object]) -> dict[tuple[str, int, int], list[Interval]]:
    """For each set (keyed by (run_id, first, last)) the parts of its coverage no newer set covers."""
    ordered = sorted(sets, reverse=True)  # newest run first
    live = {}
    for i, key in enumerate(ordered):
        remaining = [(key[1], key[2])]
        for newer in ordered[:i]:
            if newer[0] == key[0]:
                continue  # sets of one run never overlap each other
            remaining = subtract(remaining, (newer[1], newer[2]))
            if not remaining:
                break
        live[key] = remaining
    return live
