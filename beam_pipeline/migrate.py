"""``python -m beam_pipeline migrate-layout``: an archive of older layouts brought to today's.

Two steps, in this order: old ledger-range directories become Hive-style ones (here), then files of
the old integer types are rewritten with int64 columns (`beam_pipeline.migrate_integers`).

Archives written with ``partition_by: ledger_range`` before the ranges became Hive-style hold
``{table}/ledgers/{start}-{end}/`` directories (so the ``ledgers`` table sat in
``ledgers/ledgers/…``). Spark cannot read those and no reader gets a range column. This command
moves every file of such a directory to ``{table}/ledger_range={start}-{end}/`` (same name, same
bytes) and rewrites the paths and partitions in ``_manifests/*.json`` to match, so `verify` and
its sha256 checks keep working. ``--dry-run`` prints the plan and changes nothing.

Files move first, manifests are rewritten last, and both steps are idempotent: after a crash,
running the command again finishes the job (a second run reports nothing to do).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass

from beam_pipeline.sinks import filesets
from beam_pipeline.sinks.partitioning import legacy_range_partition, partition_path
from beam_pipeline.util import fs

MANIFEST_DIR = "_manifests"  # sinks.manifest imports Beam; the name is all this needs


@dataclass(frozen=True)
class Move:
    src: str
    dst: str


def _new_partition(partition: str) -> str | None:
    span = legacy_range_partition(partition)
    if span is None:
        return None
    return partition_path("ledger_range", 0, span[0], span[1] - span[0] + 1)


def _table_dirs(root: str) -> list[str]:
    """Table directories under `root`: every top-level directory whose name does not start with "_"."""
    if fs.is_local(root):
        return sorted(n for n in os.listdir(root) if not n.startswith("_") and os.path.isdir(os.path.join(root, n)))
    tables = set()
    for path, _ in fs.list_tree(root):
        first = path[len(root.rstrip("/")) :].lstrip("/").split("/", 1)[0]
        if first and not first.startswith("_"):
            tables.add(first)
    return sorted(tables)


def _legacy_files(table_dir: str, table: str, under: str = "") -> list[tuple[str, str, str]]:
    """(path, new partition, base name) of the archive files in old range directories below `table_dir`."""
    listed_dir = fs.join(table_dir, under) if under else table_dir
    out = []
    for path, _ in fs.list_tree(listed_dir):
        rel = path[len(table_dir.rstrip("/")) :].lstrip("/").replace(os.sep, "/")
        partition, _, base = rel.rpartition("/")
        parsed = filesets.parse_file_name(base)
        new = _new_partition(partition)
        if new is not None and parsed is not None and parsed.table == table:
            out.append((path, new, base))  # anything else is not an old range directory's file: left alone
    return out


def plan_moves(root: str) -> list[Move]:
    """Every archive file in an old ``ledgers/S-E/`` (or bare ``S-E/``) directory, and where it goes."""
    moves = []
    for table in _table_dirs(root):
        table_dir = fs.join(root, table)
        moves += [Move(path, fs.join(table_dir, new, base)) for path, new, base in _legacy_files(table_dir, table)]
    return moves


def _rewrite_path(path: str, table: str | None = None) -> str:
    """A manifest path in the old layout, in the new one; any other path unchanged."""
    parts = path.split("/")
    if len(parts) < 3:
        return path
    parsed = filesets.parse_file_name(parts[-1])
    if parsed is None:
        return path
    table = table or parsed.table
    if len(parts) >= 4 and parts[-3] == "ledgers" and parts[-4] == table:
        old, keep = "/".join(parts[-3:-1]), parts[:-3]
    elif parts[-3] == table:
        old, keep = parts[-2], parts[:-2]
    else:
        return path
    new = _new_partition(old)
    return path if new is None else "/".join([*keep, new, parts[-1]])


def rewrite_manifest(manifest: dict) -> bool:
    """Rewrites one manifest's file paths and partitions in place; whether anything changed."""
    changed = False
    for entry in manifest.get("files", []):
        new = _new_partition(entry.get("partition") or "")
        if new is not None:
            entry["partition"] = new
            changed = True
        path = _rewrite_path(entry.get("path", ""), entry.get("table"))
        if path != entry.get("path"):
            entry["path"] = path
            changed = True
    replaced = [_rewrite_path(p) for p in manifest.get("replaced", [])]
    if replaced != manifest.get("replaced", []):
        manifest["replaced"] = replaced
        changed = True
    return changed


def _manifests(root: str) -> list[str]:
    try:
        return [p for p, _ in fs.list_files(fs.join(root, MANIFEST_DIR), "*.json")]
    except Exception:  # noqa: BLE001 - an archive without manifests
        return []


def _prune_empty_dirs(moves: list[Move]) -> None:
    """Local disk only: remove the emptied ``ledgers/S-E/`` and ``ledgers/`` directories."""
    for d in sorted({os.path.dirname(m.src) for m in moves}, reverse=True):
        for candidate in (d, os.path.dirname(d)):
            if os.path.isdir(candidate) and not os.listdir(candidate):
                os.rmdir(candidate)


def migrate(root: str, dry_run: bool = False, out=None) -> tuple[int, int]:
    """Moves the files and rewrites the manifests; (files moved, manifests rewritten)."""
    out = out or sys.stdout
    moves = plan_moves(root)
    for m in moves:
        print(f"{'would move' if dry_run else 'move'} {m.src} -> {m.dst}", file=out)
        if not dry_run:
            fs.rename(m.src, m.dst)
    if not dry_run and fs.is_local(root):
        _prune_empty_dirs(moves)
    rewritten = 0
    for path in _manifests(root):
        try:
            manifest = json.loads(fs.read_bytes(path, max_bytes=256 << 20))
        except ValueError as e:
            raise ValueError(f"{path}: unreadable manifest: {e}") from e
        if not isinstance(manifest, dict) or not rewrite_manifest(manifest):
            continue
        rewritten += 1
        print(f"{'would rewrite' if dry_run else 'rewrite'} {path}", file=out)
        if not dry_run:
            fs.write_bytes(path, json.dumps(manifest, indent=1).encode())
    if not moves and not rewritten:
        print(f"{root}: nothing to migrate (no old ledgers/START-END directories)", file=out)
    return len(moves), rewritten


def has_legacy_ranges(root: str, tables: list[str] | tuple[str, ...]) -> bool:
    """Whether `root` holds old ``{table}/ledgers/S-E/`` files of these tables.

    A ledger_range run must not write beside them (the commit would not see the old sets it
    supersedes). One listing per table below its old ``ledgers/`` prefix: empty (cheap) once migrated.
    """
    for table in tables:
        old_dir = fs.join(root, table, "ledgers")
        if fs.is_local(old_dir) and not os.path.isdir(old_dir):
            continue
        try:
            if _legacy_files(fs.join(root, table), table, under="ledgers"):
                return True
        except Exception:  # noqa: BLE001 - object stores raise for an absent prefix
            continue
    return False


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--root", required=True, help="archive root (local path, gs:// or s3:// prefix)")
    parser.add_argument("--dry-run", action="store_true", help="print what would move or be rewritten; change nothing")


def run(args: argparse.Namespace) -> int:
    if fs.is_local(args.root) and not os.path.isdir(args.root):
        print(f"error: {args.root}: no such archive directory", file=sys.stderr)
        return 2
    from beam_pipeline.migrate_integers import IntegerMigrationError
    from beam_pipeline.migrate_integers import migrate as migrate_integers

    moved, rewritten = migrate(args.root, dry_run=args.dry_run)
    verb = "would move" if args.dry_run else "moved"
    print(f"{verb} {moved} files, {'would rewrite' if args.dry_run else 'rewrote'} {rewritten} manifests")
    try:
        files, manifests = migrate_integers(args.root, dry_run=args.dry_run)
    except IntegerMigrationError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    verb = "would rewrite" if args.dry_run else "rewrote"
    print(f"{verb} {files} files with int64 integer columns" + ("" if args.dry_run else f", {manifests} manifests"))
    return 0
