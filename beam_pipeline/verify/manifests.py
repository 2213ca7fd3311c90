"""``verify --manifests``: the archive against the run manifests, and the layout the manifests record.

Row checks cannot tell a lost file of a sparse table from ledgers that simply have no rows; the
manifests can, since they list every file a run made final, with its size and sha256. They also
record the archive's layout, which `run` prefers to guessing it from directory names.
"""

from __future__ import annotations

import hashlib
import json
import os

from beam_pipeline.util import fs
from beam_pipeline.verify.model import ArchiveFile
from beam_pipeline.verify.scan import open_file, relative_path

_PARTITION_DEPTH = {"ledger_day": 3, "hour": 4, "ledger_range": 1}


def _sha256(path: str) -> str:
    """Streamed in 8 MiB chunks: archive files can be far larger than memory should hold."""
    h = hashlib.sha256()
    with open_file(path) as f:
        while chunk := f.read(8 << 20):
            h.update(chunk)
    return h.hexdigest()


def load_manifests(root: str) -> tuple[list[dict], list[str]]:
    """Every ``_manifests/*.json`` sorted by run id, and problems with unreadable ones."""
    problems, out = [], []
    try:
        listed = fs.list_files(fs.join(root, "_manifests"), "*.json")
    except Exception:  # noqa: BLE001 - no manifest directory at all
        listed = []
    for path, _ in listed:
        try:
            m = json.loads(fs.read_bytes(path, max_bytes=256 << 20))
            if not isinstance(m, dict) or not isinstance(m.get("files"), list) or "run_id" not in m:
                raise ValueError("not a run manifest (run_id / files missing)")
        except Exception as e:  # noqa: BLE001 - reported with the path
            problems.append(f"{path}: unreadable manifest: {e}")
            continue
        out.append(m)
    return sorted(out, key=lambda m: m["run_id"]), problems


def check_manifests(
    root: str, manifests: list[dict], archive: dict[str, list[ArchiveFile]], scheme: str, start: int, end: int
) -> tuple[list[str], str]:
    """The files the manifests say are live must exist with the recorded size and sha256; the
    archive must hold no file of the verified tables that no manifest lists."""
    problems: list[str] = []
    replaced_after: dict[str, str] = {}  # path (relative) -> run that retired it
    listed: dict[str, tuple[str, dict]] = {}
    for m in manifests:
        for p in m.get("replaced", []):
            replaced_after[_manifest_relative(p, scheme)] = m["run_id"]
    for m in manifests:
        for entry in m["files"]:
            rel = _manifest_relative(entry["path"], scheme, entry.get("table"), entry.get("partition"))
            listed[rel] = (m["run_id"], entry)
    present = {relative_path(root, f.path): f for files in archive.values() for f in files}
    checked = 0
    for rel, (run_id, entry) in sorted(listed.items()):
        if entry.get("table") not in archive:
            continue
        first, last = entry.get("ledger_range", [start, end])
        if last < start or first > end:
            continue
        if replaced_after.get(rel, "") > run_id:
            continue  # retired by a later run, as the newest-set-wins rule says
        checked += 1
        f = present.get(rel)
        if f is None:
            problems.append(f"{rel}: listed by manifest {run_id} but missing from the archive")
            continue
        if f.size != entry["bytes"]:
            problems.append(f"{rel}: {f.size} bytes, manifest {run_id} recorded {entry['bytes']} (modified)")
            continue
        digest = _sha256(f.path)
        if digest != entry["sha256"]:
            problems.append(f"{rel}: sha256 {digest[:16]}... differs from manifest {run_id} (modified)")
    for rel, f in sorted(present.items()):
        if f.name is None or rel in listed:
            continue
        if f.name.last < start or f.name.first > end:
            continue
        problems.append(f"{rel}: in no manifest (a crashed run's file, or copied in by hand)")
    return problems, f"{len(manifests)} manifests, {checked} live files checked"



def _manifest_relative(path: str, scheme: str, table: str | None = None, partition: str | None = None) -> str:
    """A manifest path relative to the archive root (manifests hold absolute paths; archives move).

    File entries name their table and partition; a ``replaced`` entry is only a path, whose last
    ``table/partition.../name`` components are taken by the scheme's directory depth.
    """
    parts = path.replace(os.sep, "/").split("/")
    if table is not None and partition is not None:
        return "/".join(p for p in (table, partition, parts[-1]) if p)
    return "/".join(parts[-(_PARTITION_DEPTH[scheme] + 2) :])



def newest_layout(manifests: list[dict]) -> tuple[str | None, int | None]:
    """(partition_by, ledgers_per_file) as the newest run that recorded its ``layout`` wrote them.

    The newest, because a rerun with another layout is what the archive now holds; (None, None)
    for archives written before manifests carried a layout, so the caller falls back to inference.
    """
    for m in reversed(manifests):  # load_manifests sorts by run id, oldest first
        layout = m.get("layout")
        if not isinstance(layout, dict) or layout.get("partition_by") not in _PARTITION_DEPTH:
            continue
        lpf = layout.get("ledgers_per_file")
        return layout["partition_by"], lpf if isinstance(lpf, int) and not isinstance(lpf, bool) and lpf >= 1 else None
    return None, None


def filtered_tables(manifests: list[dict]) -> dict[str, list[str]]:
    """Tables some run wrote through row filters -> why they are not complete (one message per run).

    A filtered table holds only the rows its filters kept: it cannot pass for the whole range.
    """
    out: dict[str, list[str]] = {}
    for m in manifests:
        for table, spec in (m.get("filters") or {}).items():
            out.setdefault(table, []).append(
                f"run {m.get('run_id')} wrote it filtered ({json.dumps(spec, sort_keys=True)}): it holds only "
                "the rows those filters kept, not every row of its ledgers"
            )
    return out
