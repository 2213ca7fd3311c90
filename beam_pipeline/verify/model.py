"""What `verify` passes between its stages: what to verify, the files found, and what was wrong.

Kept apart from the stages so that listing, the SQL checks, the manifest checks and the command
line all share one definition of a problem and of how many examples of it are named.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from beam_pipeline.sinks import filesets

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_USAGE = 2

EXAMPLES = 8  # ledgers / files named per problem before "... and N more"


class VerifyError(ValueError):
    """The archive cannot be verified at all (bad arguments, nothing there, mixed layouts)."""


@dataclass(frozen=True)
class Target:
    """What to verify: where, which layout, which ledgers and tables."""

    root: str
    partition_by: str | None  # None: from the newest manifest's layout, else inferred from the directories
    ledgers_per_file: int | None
    start: int | None
    end: int | None
    tables: tuple[str, ...] | None  # None: every table directory found
    check_manifests: bool = False
    # delta | iceberg | parquet (None: the newest manifest's layout says), and the Iceberg catalog settings.
    table_format: str | None = None
    iceberg_catalog: str = ""
    iceberg_namespace: str = "stellar"


@dataclass
class ArchiveFile:
    """One Parquet file under a table directory, as listed (no content read yet)."""

    path: str
    size: int
    table: str
    partition: str
    name: filesets.FileName | None  # None: a file the sink did not write (foreign)


@dataclass
class TableReport:
    """One table's result; problems are grouped by kind ("missing", "duplicated", ...) for printing."""

    table: str
    files: int = 0
    rows: int = 0
    problems: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, kind: str, message: str) -> None:
        self.problems[kind].append(message)


@dataclass
class Report:
    """The whole verification: the layout and range actually used, per-table results, manifests."""

    target: Target
    partition_by: str
    ledgers_per_file: int | None
    start: int
    end: int
    tables: list[TableReport]
    manifest_problems: list[str] = field(default_factory=list)
    manifest_summary: str = ""
    warnings: list[str] = field(default_factory=list)
    # What crashed runs left (commit journals, dead runs' temporary files, a dead lock): the next run
    # repairs them, but until then the archive is not what its manifests say.
    leftovers: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(t.ok for t in self.tables) and not self.manifest_problems and not self.leftovers


def examples(items: list[str]) -> list[str]:
    """The first `EXAMPLES` items and a count of the rest: a damaged archive must not flood the report."""
    return items[:EXAMPLES] + ([f"... and {len(items) - EXAMPLES} more"] if len(items) > EXAMPLES else [])
