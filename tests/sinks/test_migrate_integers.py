"""``migrate-layout``'s integer step: archives of schema version 1's integer types, rewritten as int64.

An archive of version 1 is made from a real run by the exact inverse of the migration (each file
rewritten with the unsigned and int32 types version 1 stored, version 1's metadata, and manifests
recording the new sizes and digests), so the migration must restore the run's own files and
manifests byte for byte; `verify --manifests` and a rerun then prove the archive is consistent.
A new run into the old archive is refused, naming the command. Data: the generated sample store
(64 ledgers, 2..65), with contract_code and config_settings empty (zero-row files).
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from beam_pipeline.cli import main
from beam_pipeline.records.base import UINT64_BOUND
from tests.harness import file_tree, job_config, run_job, two_run_archive

TABLES = ["ledgers", "transactions", "operations", "config_settings"]
LPF = 16

# The integer columns of these tables that schema version 1 stored in other types than int64
# (from beam_pipeline/records at commit 3161c25; config_settings: a few of its 45 such columns).
V1_TYPES = {
    "ledgers": {
        "sequence": pa.uint32(), "transaction_count": pa.int32(), "operation_count": pa.int32(),
        "successful_transaction_count": pa.int32(), "failed_transaction_count": pa.int32(),
        "base_fee": pa.uint32(), "base_reserve": pa.uint32(), "max_tx_set_size": pa.uint32(),
        "protocol_version": pa.uint32(), "total_byte_size_of_bucket_list": pa.uint64(),
        "total_byte_size_of_live_soroban_state": pa.uint64(),
    },
    "transactions": {
        "ledger_sequence": pa.uint32(), "max_fee": pa.uint32(), "operation_count": pa.int32(),
        "min_account_sequence_age": pa.uint64(), "min_account_sequence_ledger_gap": pa.uint32(),
        "soroban_resources_instructions": pa.uint32(), "soroban_resources_read_bytes": pa.uint32(),
        "soroban_resources_disk_read_bytes": pa.uint32(), "soroban_resources_write_bytes": pa.uint32(),
        "soroban_resources_archived_entries": pa.list_(pa.uint32()),
    },
    "operations": {"type": pa.int32(), "ledger_sequence": pa.uint32()},
    "config_settings": {
        "config_setting_id": pa.int32(), "ledger_sequence": pa.uint32(),
        "bucket_list_size_window": pa.list_(pa.uint64()),
    },
}


def _v1_schema(schema: pa.Schema, table: str) -> pa.Schema:
    fields = []
    for f in schema:
        if f.name in V1_TYPES[table]:
            f = f.with_type(V1_TYPES[table][f.name])
            meta = {k: v for k, v in (f.metadata or {}).items() if k != UINT64_BOUND}
            f = f.with_metadata(meta or None) if meta else f.remove_metadata()
        fields.append(f)
    meta = {k: v for k, v in schema.metadata.items() if k != b"pandas"}
    meta[b"stellar.schema_version"] = b"1"
    return pa.schema(fields, metadata=meta)


def _to_v1(root: Path, bigger: dict[str, int] | None = None) -> None:
    """What version 1 wrote: every table file with its old integer types, and manifests saying so.

    `bigger` puts a value into the first row of a column (to make one that does not fit int64).
    """
    written = {}
    for table in TABLES:
        for path in sorted((root / table).rglob("*.parquet")):
            pf = pq.ParquetFile(path)
            schema = _v1_schema(pf.schema_arrow, table)
            groups = [pf.read_row_group(i) for i in range(pf.metadata.num_row_groups)]
            with pq.ParquetWriter(path, schema, compression="zstd") as w:
                for g in groups:
                    columns = [c.cast(f.type) for c, f in zip(g.columns, schema, strict=True)]
                    for name, value in (bigger or {}).items():
                        if table == "ledgers" and name in g.column_names:
                            i = g.column_names.index(name)
                            values = columns[i].to_pylist()
                            columns[i] = pa.array([value, *values[1:]], schema.field(i).type)
                    w.write_table(pa.Table.from_arrays(columns, schema=schema))
            data = path.read_bytes()
            written[path.name] = (len(data), hashlib.sha256(data).hexdigest())
    for m in (root / "_manifests").glob("*.json"):
        manifest = json.loads(m.read_text())
        for entry in manifest["files"]:
            name = entry["path"].rsplit("/", 1)[-1]
            if name in written:
                entry.update(bytes=written[name][0], sha256=written[name][1], schema_version=1)
        m.write_text(json.dumps(manifest, indent=1))


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> tuple[Path, Path, dict[str, bytes]]:
    """An archive of two runs (the second overlaps: manifests hold replaced paths)."""
    store, out = two_run_archive(tmp_path_factory.mktemp("migrate_ints"), TABLES, LPF)
    return store, out, file_tree(out)


def _same_archive(root: Path, out: Path, written: dict[str, bytes]) -> None:
    """The migrated archive is the run's, byte for byte, but for files a rerun carried.

    A rerun writes the rows it keeps of a partly covered older set back from Parquet, whose list
    columns name their items ``element``; the migration writes today's schema (``item``), so those
    files hold the same rows and types under another list item name, with their own size and digest.
    """
    tree = file_tree(root)
    assert tree.keys() == written.keys()
    carried = {e["path"].rsplit("/", 1)[-1] for rel, data in written.items() if rel.startswith("_manifests/")
               for e in json.loads(data)["files"] if e["action"] == "carried"}
    differ = set()
    for rel, data in written.items():
        if rel.endswith(".parquet") and tree[rel] != data:
            differ.add(rel.rsplit("/", 1)[-1])
            got, want = pq.read_table(pa.BufferReader(tree[rel])), pq.read_table(pa.BufferReader(data))
            assert got.to_pylist() == want.to_pylist(), rel
            assert [f.type.value_type if pa.types.is_list(f.type) else f.type for f in got.schema] == [
                f.type.value_type if pa.types.is_list(f.type) else f.type for f in want.schema], rel
            assert got.schema.metadata == want.schema.metadata, rel
    assert differ <= carried, differ - carried
    for rel, data in written.items():
        if rel.startswith("_manifests/"):  # manifests hold absolute paths: the copy's root differs
            got, want = json.loads(tree[rel].decode().replace(str(root), str(out))), json.loads(data)
            for entry in got["files"] + want["files"]:
                if entry["path"].rsplit("/", 1)[-1] in differ:
                    entry.pop("bytes"), entry.pop("sha256")
            assert got == want, rel


def test_an_old_archive_is_refused_then_migrated_back_to_the_run_byte_for_byte(archive, tmp_path, capsys):
    store, out, written = archive
    old = tmp_path / "old"
    shutil.copytree(out, old)
    _to_v1(old)
    assert pq.read_schema(next((old / "ledgers").rglob("*.parquet"))).field("sequence").type == pa.uint32()
    before = file_tree(old)
    assert main(["verify", "--path", str(old), "--manifests"]) == 0, capsys.readouterr().out  # consistent, old

    # A run of today's types refuses to write beside the old ones, naming the migration.
    cfg = job_config(str(store), 2, 65, old, TABLES, partition_by="ledger_range", ledgers_per_file=LPF)
    capsys.readouterr()
    assert run_job(cfg, tmp_path) == 2
    err = capsys.readouterr().err
    assert "sequence: uint32 -> int64" in err and f"migrate-layout --root {old}" in err, err
    assert file_tree(old) == before

    assert main(["migrate-layout", "--root", str(old), "--dry-run"]) == 0
    text = capsys.readouterr().out
    files = sum(len(list((old / t).rglob("*.parquet"))) for t in TABLES)
    assert "sequence: uint32 -> int64" in text and f"would rewrite {files} files" in text, text
    assert file_tree(old) == before  # a dry run changes nothing

    assert main(["migrate-layout", "--root", str(old)]) == 0
    assert f"rewrote {files} files with int64 integer columns" in capsys.readouterr().out
    _same_archive(old, out, written)

    assert main(["migrate-layout", "--root", str(old)]) == 0
    assert "nothing to rewrite" in capsys.readouterr().out
    assert main(["verify", "--path", str(old), "--manifests"]) == 0, capsys.readouterr().out
    cfg = job_config(str(store), 30, 50, old, TABLES, partition_by="ledger_range", ledgers_per_file=LPF)
    assert run_job(cfg, tmp_path) == 0
    capsys.readouterr()
    assert main(["verify", "--path", str(old), "--manifests"]) == 0, capsys.readouterr().out


def test_an_interrupted_migration_finishes_when_run_again(archive, tmp_path, capsys, monkeypatch):
    """Interrupted while replacing the files (after the manifests): the second run completes it exactly."""
    from beam_pipeline.util import fs

    _, out, written = archive
    old = tmp_path / "old"
    shutil.copytree(out, old)
    _to_v1(old)
    rename, calls = fs.rename, []

    def failing(src, dst):
        calls.append(src)
        if len(calls) == 4:
            raise OSError("interrupted")
        rename(src, dst)

    monkeypatch.setattr(fs, "rename", failing)
    with pytest.raises(OSError, match="interrupted"):
        main(["migrate-layout", "--root", str(old)])
    monkeypatch.setattr(fs, "rename", rename)
    assert main(["migrate-layout", "--root", str(old)]) == 0
    files = sum(len(list((old / t).rglob("*.parquet"))) for t in TABLES)
    # the three replaced before the interruption are done
    assert f"rewrote {files - 3} files" in capsys.readouterr().out
    _same_archive(old, out, written)


def test_a_value_that_does_not_fit_int64_stops_the_migration_naming_file_and_column(archive, tmp_path, capsys):
    _, out, _ = archive
    old = tmp_path / "old"
    shutil.copytree(out, old)
    _to_v1(old, bigger={"total_byte_size_of_bucket_list": 2**64 - 1})
    before = file_tree(old)
    assert main(["migrate-layout", "--root", str(old)]) == 2
    err = capsys.readouterr().err
    assert "ledgers_" in err and "column total_byte_size_of_bucket_list: value 18446744073709551615" in err, err
    assert file_tree(old) == before  # nothing rewritten, no hidden file left behind


def test_a_table_format_log_over_the_old_files_is_named_and_nothing_is_rewritten(archive, tmp_path, capsys):
    """A Delta log records each file's size and types: rewriting under it would leave it wrong."""
    _, out, _ = archive
    old = tmp_path / "old"
    shutil.copytree(out, old)
    _to_v1(old)
    (old / "operations" / "_delta_log").mkdir()
    (old / "operations" / "_delta_log" / "00000000000000000000.json").write_text("{}\n")
    before = file_tree(old)
    assert main(["migrate-layout", "--root", str(old)]) == 2
    err = capsys.readouterr().err
    assert f"{old}/operations/_delta_log" in err and "table_format" in err and "nothing was rewritten" in err, err
    assert file_tree(old) == before
