"""`verify` on a real archive: a clean one passes, each hand-made defect fails with its own message.

One archive (testnet ledgers 1410048-1410100: ledgers, transactions, operations) is written once per
module by the real pipeline; every test works on its own copy in `tmp_path`.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from tests.harness import datastore, job_config, manifests, parquet_files, run_job, verify_archive, write_config

START, END = 1410048, 1410100
TABLES = ["ledgers", "transactions", "operations"]
OTHER_RUN = "r20991231T235959000000Zbeef"  # sorts after any real run id


@pytest.fixture(scope="module")
def pristine(tmp_path_factory, shared_ledgers) -> Path:
    work = tmp_path_factory.mktemp("pristine")
    cfg = job_config(datastore("testnet-p19-lpf64"), START, END, work / "out", tables=TABLES)
    assert run_job(cfg, work) == 0
    return work / "out"


@pytest.fixture
def archive(pristine, tmp_path) -> Path:
    out = tmp_path / "archive"
    shutil.copytree(pristine, out)
    return out


def table_line(out: str, table: str) -> str:
    return next(line for line in out.splitlines() if line.strip().startswith(table + " "))


def only_file(root: Path, table: str) -> Path:
    files = parquet_files(root, table)
    assert len(files) == 1, files
    return Path(files[0])


def test_clean_archive_passes(archive, capsys):
    code, out = verify_archive(capsys, "--path", str(archive), "--manifests")
    assert code == 0, out
    assert f"ledgers {START}-{END} (partition_by ledger_day)" in out
    assert "53 rows" in table_line(out, "ledgers") and table_line(out, "ledgers").endswith("ok")
    assert table_line(out, "transactions").endswith("ok")
    assert table_line(out, "operations").endswith("ok")
    assert "3 live files checked: ok" in out


def test_operations_count_is_tx_set_operation_count(archive, capsys):
    """The check compares operations rows with tx_set_operation_count, which differs from operation_count
    here (failed transactions' operations are rows too), so a clean pass proves the chosen semantics."""
    ledgers = pq.read_table(only_file(archive, "ledgers"))
    all_ops = pc.cast(ledgers["tx_set_operation_count"], "int64")
    differs = pc.not_equal(all_ops, pc.cast(ledgers["operation_count"], "int64"))
    assert pc.sum(pc.cast(differs, "int64")).as_py() > 0
    code, out = verify_archive(capsys, "--path", str(archive), "--tables", "ledgers,operations")
    assert code == 0, out


def test_config_mode_uses_the_jobs_root_range_and_tables(archive, tmp_path, capsys):
    cfg = job_config(datastore("testnet-p19-lpf64"), START, END, archive, tables=["ledgers", "transactions"])
    path = write_config(cfg, tmp_path, "verify.yaml")
    code, out = verify_archive(capsys, "--config", path)
    assert code == 0, out
    assert "operations" not in out
    # A range beyond what was archived: the ledgers after END are missing.
    code, out = verify_archive(capsys, "--config", path, "--end-ledger", str(END + 5))
    assert code == 1
    assert f"missing: 5 ledgers have no row: {END + 1}-{END + 5}" in out


def test_deleted_file_is_missing(archive, capsys):
    only_file(archive, "transactions").unlink()
    code, out = verify_archive(capsys, "--path", str(archive))
    assert code == 1
    assert table_line(out, "transactions").endswith("FAILED")
    assert "missing:" in out and "ledgers have no rows: 1410048-" in out
    assert table_line(out, "ledgers").endswith("ok")

    only_file(archive, "ledgers").unlink()
    code, out = verify_archive(capsys, "--path", str(archive))
    assert code == 1
    assert f"missing: 53 ledgers have no row: {START}-{END}" in out


def test_file_copied_under_new_run_id_is_duplicated(archive, capsys):
    src = only_file(archive, "transactions")
    run_id = src.name.split("_")[2]
    shutil.copy(src, src.with_name(src.name.replace(run_id, OTHER_RUN)))
    code, out = verify_archive(capsys, "--path", str(archive), "--manifests")
    assert code == 1
    assert table_line(out, "transactions").endswith("FAILED")
    assert re.search(r"duplicated: \d+ ledgers in 1410048-1410100: rows in 2 file sets", out), out
    assert f"{OTHER_RUN}_000-0000.parquet: in no manifest" in out


def test_file_copied_as_another_part_repeats_ids(archive, capsys):
    src = only_file(archive, "operations")
    shutil.copy(src, src.with_name(src.name.replace("_000-0000.", "_000-0001.")))
    code, out = verify_archive(capsys, "--path", str(archive))
    assert code == 1
    assert "rows repeat an id of the same file set" in out


def test_file_moved_to_another_partition_is_misplaced(archive, capsys):
    src = only_file(archive, "transactions")
    dst = archive / "transactions" / "year=2022" / "month=06" / "day=11" / src.name
    dst.parent.mkdir(parents=True)
    src.rename(dst)
    code, out = verify_archive(capsys, "--path", str(archive))
    assert code == 1
    assert re.search(r"misplaced: \d+ ledgers in 1410048-1410100: ", out), out
    assert "203 rows in year=2022/month=06/day=11, belong in year=2022/month=06/day=10" in out
    assert "missing" not in out  # the rows are all there, just in the wrong place


def test_dropped_rows_are_a_count_mismatch(archive, capsys):
    path = only_file(archive, "transactions")
    table = pq.read_table(path)
    ledger = 1410050
    rows = pc.equal(table["ledger_sequence"], ledger)
    n = pc.sum(pc.cast(rows, "int64")).as_py()
    assert n >= 2, "the test needs a ledger with at least two transactions"
    first = pc.index(table["ledger_sequence"], ledger).as_py()
    keep = [i for i in range(table.num_rows) if i != first]
    pq.write_table(table.take(keep), path)
    code, out = verify_archive(capsys, "--path", str(archive))
    assert code == 1
    assert f"count mismatch: ledger {ledger}: {n - 1} rows, the ledgers table says {n}" in out
    assert "missing" not in out


def test_manifest_check_catches_a_modified_file(archive, capsys):
    path = only_file(archive, "ledgers")
    pq.write_table(pq.read_table(path), path, compression="gzip")  # same rows, other bytes
    code, out = verify_archive(capsys, "--path", str(archive))
    assert code == 0, out  # the rows are still exact ...
    code, out = verify_archive(capsys, "--path", str(archive), "--manifests")
    assert code == 1  # ... but the file is not the one the run wrote
    assert f"ledgers/year=2022/month=06/day=10/{path.name}:" in out and "(modified)" in out


def test_manifest_check_catches_a_missing_file_of_a_sparse_table(tmp_path, capsys, shared_ledgers):
    """Without a count to compare with, a lost file is only a warning; the manifests make it an error."""
    out_dir = tmp_path / "out"
    cfg = job_config(datastore("testnet-p19-lpf64"), START, END, out_dir, tables=["ledgers", "accounts"])
    assert run_job(cfg, tmp_path) == 0
    only_file(out_dir, "accounts").unlink()
    code, out = verify_archive(capsys, "--path", str(out_dir), "--tables", "ledgers,accounts")
    assert code == 0, out
    assert "warning: 53 ledgers have no rows and no file set covers them" in out
    code, out = verify_archive(capsys, "--path", str(out_dir), "--tables", "ledgers,accounts", "--manifests")
    assert code == 1
    assert "but missing from the archive" in out


def rewrite_manifest(archive: Path, edit) -> Path:
    """Applies `edit` to the archive's only manifest, in place."""
    (path,) = (archive / "_manifests").glob("*.json")
    m = json.loads(path.read_text())
    edit(m)
    path.write_text(json.dumps(m))
    return path


def test_layout_comes_from_the_newest_manifest(archive, capsys):
    """The directories say ledger_day; a newer run's manifest says hour, and wins over the names."""
    path = rewrite_manifest(archive, lambda m: None)
    newer = json.loads(path.read_text())
    assert newer["layout"]["partition_by"] == "ledger_day"
    newer["run_id"] = OTHER_RUN
    newer["layout"]["partition_by"] = "hour"
    (path.parent / f"{OTHER_RUN}.json").write_text(json.dumps(newer))
    code, out = verify_archive(capsys, "--path", str(archive))
    assert code == 1, out
    assert f"ledgers {START}-{END} (partition_by hour)" in out
    assert re.search(r"misplaced: \d+ ledgers in 1410048-1410100: 53 rows in year=2022/month=06/day=10, "
                     r"belong in year=2022/month=06/day=10/hour=\d\d", out), out
    # A flag still beats the manifest.
    code, out = verify_archive(capsys, "--path", str(archive), "--partition-by", "ledger_day")
    assert code == 0, out


def test_manifest_layout_resolves_mixed_directories(archive, capsys):
    """A stray copy in another scheme's directory makes the names ambiguous; the manifest is not."""
    src = only_file(archive, "transactions")
    stray = archive / "transactions" / "ledger_range=1410048-1410111" / src.name
    stray.parent.mkdir(parents=True)
    shutil.copy(src, stray)
    code, out = verify_archive(capsys, "--path", str(archive))
    assert code == 1, out
    assert f"ledgers {START}-{END} (partition_by ledger_day)" in out
    assert "rows in ledger_range=1410048-1410111, belong in year=2022/month=06/day=10" in out
    assert "rows in 2 file sets" in out
    # Without a recorded layout only the directory names are left, and they disagree.
    rewrite_manifest(archive, lambda m: m.pop("layout"))
    code, out = verify_archive(capsys, "--path", str(archive))
    assert code == 2
    assert "directories of more than one partition scheme: ledger_day, ledger_range" in out


def test_layout_falls_back_to_the_directory_names(archive, capsys):
    """Archives written before manifests recorded a layout: the scheme is read from the directories."""
    rewrite_manifest(archive, lambda m: m.pop("layout"))
    code, out = verify_archive(capsys, "--path", str(archive), "--manifests")
    assert code == 0, out
    assert f"ledgers {START}-{END} (partition_by ledger_day)" in out
    shutil.rmtree(archive / "_manifests")
    code, out = verify_archive(capsys, "--path", str(archive))
    assert code == 0, out
    assert "(partition_by ledger_day)" in out


def test_bad_arguments_exit_2(archive, capsys, tmp_path):
    code, out = verify_archive(capsys, "--path", str(tmp_path / "nothing"))
    assert code == 2 and "no table directories" in out
    code, out = verify_archive(capsys, "--path", str(archive), "--tables", "ledgers,nope")
    assert code == 2 and "unknown tables nope" in out
    code, out = verify_archive(capsys, "--config", str(tmp_path / "absent.yaml"))
    assert code == 2 and "absent.yaml" in out


def test_manifests_are_valid_json_with_the_documented_fields(archive):
    (m,) = manifests(archive)
    assert {"run_id", "config_digest", "ledger_range", "files", "replaced"} <= set(m)
    assert {f["table"] for f in m["files"]} == set(TABLES)


def test_verify_reads_an_s3_archive(archive, capsys, monkeypatch):
    from tests.fakes.s3_server import FAKE_CREDENTIALS, running_s3_server

    for k, v in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(k, v)
    with running_s3_server() as s3:
        s3.create_bucket("lake")
        s3.upload_tree(archive, "lake", "stellar")
        url = "s3://lake/stellar"
        code, out = verify_archive(capsys, "--path", url, "--manifests", f"--s3_endpoint_url={s3.endpoint}")
        assert code == 0, out
        assert "3 live files checked: ok" in out
        # A defect in the bucket is found the same way as on disk.
        key = next(k for k in s3.keys("lake", "stellar/transactions/"))
        s3.client().delete_object(Bucket="lake", Key=key)
        code, out = verify_archive(capsys, "--path", url, f"--s3_endpoint_url={s3.endpoint}")
        assert code == 1
        assert "ledgers have no rows: 1410048-" in out


def test_verify_reads_a_gcs_archive(archive, capsys, monkeypatch):
    from tests.fakes.gcs_server import running_gcs_server

    with running_gcs_server() as gcs:
        monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcs.endpoint)
        gcs.create_bucket("lake")
        gcs.upload_tree(archive, "lake", "stellar")
        code, out = verify_archive(capsys, "--path", "gs://lake/stellar", "--manifests")
        assert code == 0, out
        assert "3 live files checked: ok" in out


@pytest.mark.parametrize("scheme, lpf", [("ledger_day", None), ("hour", None), ("ledger_range", 100)])
def test_sql_partition_buckets_agree_with_the_writer(scheme, lpf, tmp_path):
    """verify groups rows by a SQL "bucket" and names its directory with the writer's partition_path;
    both must agree at the edges (midnight, the top of the hour, chunk boundaries)."""
    from beam_pipeline.sinks.partitioning import partition_path
    from beam_pipeline.verify import ArchiveDb

    db = ArchiveDb(str(tmp_path), scheme, lpf)
    try:
        cases = [(0, 1), (86399, 99), (86400, 100), (1654835024, 1410048), (1654837199, 1410199), (1654837200, 1410200)]
        rows = db.all(
            "SELECT ledger, close_ts, " + db.bucket("ledger", "close_ts") + " FROM (VALUES "
            + ", ".join(f"({ledger}, {ts})" for ts, ledger in cases) + ") AS t(ledger, close_ts)"
        )
    finally:
        db.close()
    for ledger, ts, bucket in rows:
        assert db.partition_of(bucket) == partition_path(scheme, ts, ledger, lpf or 1)
