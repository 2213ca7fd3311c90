"""Custom partitioning: `partition_by: package.module:function`, a user's (ledger, close time) -> directory.

Here, outside `sinks`, because config validation imports and probes the function (`check`)
and config must not import the sinks package; `sinks.partitioning` calls it for every ledger.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable


@functools.lru_cache(maxsize=8)
def partition_function(spec: str) -> Callable[[int, int], str]:
    """``package.module:function`` -> the function, imported once per process (workers import it too)."""
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)


def escapes(path: object) -> str | None:
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
    return escapes(path)
