"""Running the archival job from tests, the way a user does, and reading back what it wrote.

`job_config` builds a config dict (the YAML shape), `run_job` writes it to a file and calls the
CLI in-process with the FnApiRunner (`run_captured` also returns what it printed), `verify_archive`
runs ``verify``, `read_table` loads a table from the archive with pyarrow and `assert_exact` checks,
independently of ``verify``, that an archive holds every ledger of a range once. The one place
that knows where the real ledgers are (``../shared/ledgers`` beside the repository).
"""

from __future__ import annotations

import copy
import glob
import json
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import yaml

from beam_pipeline.cli import main

REPO = Path(__file__).resolve().parents[1]
SHARED_LEDGERS = REPO.parent / "shared" / "ledgers"
DATASTORES = SHARED_LEDGERS / "datastores"
GOLDEN = SHARED_LEDGERS / "golden" / "stellar-etl"


def datastore(name: str) -> str:
    return str(DATASTORES / name)


def job_config(
    source_path: str,
    start: int,
    end: int,
    out: str | os.PathLike,
    tables: list[str] = ("ledgers", "transactions", "operations"),
    **sink,
) -> dict:
    """A config dict for a datastore -> local Parquet job; `sink` overrides SaveToParquet keys."""
    sink_cfg = {"storage_type": "FS", "local_path": str(out), "partition_by": "ledger_day"}
    sink_cfg.update(sink)
    return {
        "pipeline": {
            "name": "test",
            "source": {
                "type": "datastore",
                "config": {"path": source_path, "start_ledger": start, "end_ledger": end},
            },
            "processors": [{"type": t} for t in tables],
            "consumers": [{"type": "SaveToParquet", "config": sink_cfg}],
        }
    }


def write_config(cfg: dict, directory: str | os.PathLike, name: str = "job.yaml") -> str:
    path = Path(directory) / name
    path.write_text(yaml.safe_dump(copy.deepcopy(cfg), sort_keys=False))
    return str(path)


def run_job(cfg: dict, directory: str | os.PathLike, *extra: str) -> int:
    """Runs ``python -m beam_pipeline run`` in-process on the FnApiRunner; returns the exit code."""
    return main(["run", "--config", write_config(cfg, directory), *extra])


def run_captured(capsys, cfg: dict, directory: str | os.PathLike, *extra: str) -> tuple[int, str, str]:
    """Runs a job; (exit code, stdout, stderr) of that run only (what was printed before is dropped)."""
    capsys.readouterr()
    code = run_job(cfg, directory, *extra)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def run_text(capsys, cfg: dict, directory: str | os.PathLike, *extra: str) -> tuple[int, str]:
    """`run_captured` with stdout and stderr together."""
    code, out, err = run_captured(capsys, cfg, directory, *extra)
    return code, out + err


def verify_archive(capsys, *args: str) -> tuple[int, str]:
    """``python -m beam_pipeline verify ARGS`` in-process: (exit code, stdout + stderr of that run)."""
    capsys.readouterr()
    code = main(["verify", *args])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def verify_range(capsys, root: str | os.PathLike, start: int, end: int, *extra: str) -> tuple[int, str]:
    """``verify --path ROOT`` over ledgers start..end (see `verify_archive`)."""
    return verify_archive(capsys, "--path", str(root), "--start-ledger", str(start), "--end-ledger", str(end), *extra)


def assert_exact(root: str | os.PathLike, start: int, end: int, tx_rows: int | None = None) -> pa.Table:
    """One ledgers row per ledger of start..end; transactions unique, all of them, none outside the range.

    Independent of ``verify``: the number of transactions must add up to the ledgers' own counts.
    Returns the transactions.
    """
    ledgers = read_table(root, "ledgers")
    assert sorted(ledgers["sequence"].to_pylist()) == list(range(start, end + 1))
    tx = read_table(root, "transactions")
    ids = tx["id"].to_pylist()
    assert len(ids) == len(set(ids)), "duplicate transaction rows"
    counted = pc.sum(pc.add(ledgers["successful_transaction_count"], ledgers["failed_transaction_count"])).as_py()
    assert len(ids) == counted
    if ids:
        assert start <= pc.min(tx["ledger_sequence"]).as_py() and pc.max(tx["ledger_sequence"]).as_py() <= end
    if tx_rows is not None:
        assert len(ids) == tx_rows
    return tx


def file_tree(root: str | os.PathLike) -> dict[str, bytes]:
    """Every file below `root` (relative posix path -> bytes): to assert what a command changed, byte for byte."""
    root = Path(root)
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def two_run_archive(tmp: Path, tables, ledgers_per_file: int) -> tuple[Path, Path]:
    """(store, archive): the sample store archived with ``partition_by: ledger_range``, ledgers 2-65 and then
    20-40, so the second run replaces files and its manifest holds replaced paths."""
    from beam_pipeline.sample import write_sample_datastore

    store, out = tmp / "store", tmp / "archive"
    write_sample_datastore(str(store))
    for start, end in ((2, 65), (20, 40)):
        cfg = job_config(str(store), start, end, out, tables, partition_by="ledger_range",
                         ledgers_per_file=ledgers_per_file)
        assert run_job(cfg, tmp) == 0
    return store, out


def parquet_files(root: str | os.PathLike, table: str | None = None) -> list[str]:
    base = glob.escape(str(root))
    pattern = f"{base}/{table}/**/*.parquet" if table else f"{base}/**/*.parquet"
    return sorted(glob.glob(pattern, recursive=True))


def read_table(root: str | os.PathLike, table: str) -> pa.Table:
    """All rows of a table under `root` (no Hive partition columns added)."""
    files = parquet_files(root, table)
    if not files:
        return pa.table({})
    return pa.concat_tables([pq.read_table(f, partitioning=None) for f in files], promote_options="default")


def assert_same_rows(expected_root: str | os.PathLike, actual_root: str | os.PathLike, table: str) -> None:
    """Two archives hold the same rows of `table`, column for column, with no id twice in either.

    A table without an ``id`` column (token_transfers) is compared as a multiset of whole rows.
    """

    def by_id(root) -> pa.Table:
        t = read_table(root, table)
        if "id" not in t.column_names:
            return t.sort_by([(name, "ascending") for name in t.column_names])
        ids = t["id"].to_pylist()
        assert len(ids) == len(set(ids)), f"{table}: duplicate ids under {root}"
        return t.sort_by("id")

    expected, actual = by_id(expected_root), by_id(actual_root)
    assert expected.num_rows > 0
    assert actual.schema == expected.schema
    for name in expected.column_names:
        assert actual[name].to_pylist() == expected[name].to_pylist(), f"{table}.{name} differs"


def read_golden(relpath: str) -> list[dict]:
    with open(GOLDEN / relpath) as f:
        return [json.loads(line) for line in f if line.strip()]


def manifests(root: str | os.PathLike) -> list[dict]:
    return [json.loads(Path(p).read_text()) for p in sorted(glob.glob(f"{root}/_manifests/*.json"))]
