"""Chunk payloads parked on local disk while a local runner shuffles their references.

The in-process FnApiRunner (one process or ``multi_processing`` workers on one machine) keeps a
step's whole output in memory before its GroupByKey, so a run's memory would grow with its
ledger range. On local runs the decode step therefore appends each compressed chunk to a spill
file and sends only a `SpillRef` through the shuffle; the writer reads the bytes back. Runners
with their own shuffle (Dataflow, Flink) spill to disk themselves and never see a SpillRef.

One file per decode bundle, written by that bundle alone: a retried bundle writes a new file and
the references of the failed attempt are discarded with it. The run's spill directory is made
and removed by `job.run`; the decode step writes through `handoff.ChunkPacker`.
"""

from __future__ import annotations

import os
import uuid
from typing import NamedTuple


class SpillError(OSError):
    """A spill file that cannot be written or read back; the message names it."""


class SpillRef(NamedTuple):
    path: str
    offset: int
    length: int


class SpillFile:
    """Appends payloads to a new file in `directory` and hands out their SpillRefs."""

    def __init__(self, directory: str):
        self.path = os.path.join(directory, f"{uuid.uuid4().hex}.spill")
        try:
            self._file = open(self.path, "xb")  # noqa: SIM115 - closed by close(), at the end of the bundle
        except OSError as e:
            raise SpillError(f"cannot create spill file {self.path}: {e.strerror or e} "
                             "(--local_spill_dir picks another disk; 'none' keeps shuffles in memory)") from e
        self._size = 0

    def put(self, payload: bytes) -> SpillRef:
        try:
            self._file.write(payload)
        except OSError as e:
            raise SpillError(f"cannot write spill file {self.path}: {e.strerror or e} "
                             "(--local_spill_dir picks another disk; 'none' keeps shuffles in memory)") from e
        ref = SpillRef(self.path, self._size, len(payload))
        self._size += len(payload)
        return ref

    def close(self) -> None:
        """Flushes what was put; a reader may open the file from any process afterwards."""
        if not self._file.closed:
            self._file.close()


def read(ref: SpillRef) -> bytes:
    try:
        with open(ref.path, "rb") as f:
            f.seek(ref.offset)
            data = f.read(ref.length)
    except OSError as e:
        raise SpillError(f"cannot read spill file {ref.path}: {e.strerror or e} "
                         "(was the run's spill directory removed while it ran?)") from e
    if len(data) != ref.length:
        raise SpillError(f"spill file {ref.path} ends at {ref.offset + len(data)}, "
                         f"before the {ref.length} bytes at offset {ref.offset} (truncated during the run?)")
    return data


# --- spill directories of runs that died ------------------------------------------------------------

SPILL_PREFIX = "beam-pipeline-spill-"
OWNER_FILE = ".owner"


def claim_dir(path: str) -> None:
    """Marks a run's spill directory with its process, so a later run can tell when it died."""
    import json
    import socket

    with open(os.path.join(path, OWNER_FILE), "w") as f:
        json.dump({"host": socket.gethostname(), "pid": os.getpid()}, f)


def remove_dead_dirs(parent: str, keep: str | None = None) -> list[str]:
    """Removes spill directories under `parent` whose process is gone (a run killed mid-way).

    A killed run cannot remove its own spill directory, and spilled chunks can be gigabytes. Only
    directories this code marked (`claim_dir`) on this host are judged; unknown ones are left alone.
    """
    import json
    import shutil
    import socket

    removed = []
    for name in sorted(os.listdir(parent)) if os.path.isdir(parent) else []:
        path = os.path.join(parent, name)
        if not name.startswith(SPILL_PREFIX) or path == keep or not os.path.isdir(path):
            continue
        try:
            with open(os.path.join(path, OWNER_FILE)) as f:
                owner = json.load(f)
        except (OSError, ValueError):
            continue
        if owner.get("host") != socket.gethostname() or not isinstance(owner.get("pid"), int):
            continue
        try:
            os.kill(owner["pid"], 0)
            continue  # alive
        except ProcessLookupError:
            pass
        except PermissionError:
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed
