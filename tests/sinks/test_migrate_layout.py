"""Hive-style ledger-range partitions and ``migrate-layout`` for archives of the old layout.

An archive of the old layout is made from a real run by the exact inverse of the migration (files
into ``{table}/ledgers/S-E/``, manifests naming those paths), so the migration must restore the
run's own tree and manifests byte for byte; `verify --manifests` and a rerun then prove the archive
is consistent. Data: the generated sample store (64 ledgers, 2..65).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest

from beam_pipeline.cli import main
from tests.harness import file_tree, job_config, run_job, two_run_archive

TABLES = ["ledgers", "transactions", "operations"]
LPF = 16


def _to_old_layout(root: Path) -> None:
    """What the writer made before Hive ranges: ``{table}/ledgers/{S-E}/`` and manifests saying so."""
    for d in sorted(root.glob("*/ledger_range=*")):
        old = d.parent / "ledgers" / d.name.removeprefix("ledger_range=")
        old.parent.mkdir(exist_ok=True)
        d.rename(old)

    def back(path: str) -> str:
        return path.replace("/ledger_range=", "/ledgers/")

    for m in (root / "_manifests").glob("*.json"):
        data = json.loads(m.read_text())
        for f in data["files"]:
            f["path"], f["partition"] = back(f["path"]), "ledgers/" + f["partition"].removeprefix("ledger_range=")
        data["replaced"] = [back(p) for p in data["replaced"]]
        m.write_text(json.dumps(data, indent=1))


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> tuple[Path, Path, dict[str, bytes]]:
    """A ledger_range archive with two runs (the second overlaps: manifests hold replaced paths)."""
    store, out = two_run_archive(tmp_path_factory.mktemp("migrate"), TABLES, LPF)
    return store, out, file_tree(out)


def test_ledger_range_partitions_are_hive_style_and_the_ledgers_table_is_not_doubled(archive):
    _, out, _ = archive
    for table in TABLES:
        dirs = sorted(p.name for p in (out / table).iterdir())
        assert dirs == [f"ledger_range={a}-{a + LPF - 1}" for a in (0, 16, 32, 48, 64)], (table, dirs)
    assert not (out / "ledgers" / "ledgers").exists()
    # Readers get the range as a string column that matches each row's ledger.
    rows = duckdb.sql(
        f"SELECT DISTINCT ledger_range, sequence // {LPF} * {LPF} AS start "
        f"FROM read_parquet('{out}/ledgers/**/*.parquet', hive_partitioning = true) ORDER BY start"
    ).fetchall()
    assert rows == [(f"{a}-{a + LPF - 1}", a) for a in (0, 16, 32, 48, 64)]


def test_migrate_layout_dry_run_then_migration_restores_the_run(archive, tmp_path, capsys):
    store, out, written = archive
    old = tmp_path / "old"
    shutil.copytree(out, old)
    _to_old_layout(old)
    assert (old / "ledgers" / "ledgers" / "0-15").is_dir()  # the doubled directory of the old layout
    before = file_tree(old)

    # verify and a new run refuse the old layout, naming the migration.
    assert main(["verify", "--path", str(old), "--manifests"]) == 2
    err = capsys.readouterr().err
    assert f"{old}/ledgers/ledgers/0-15/" in err and "migrate-layout --root" in err
    cfg = job_config(str(store), 2, 65, old, TABLES, partition_by="ledger_range", ledgers_per_file=LPF)
    assert run_job(cfg, tmp_path) == 2
    assert "migrate-layout --root" in capsys.readouterr().err
    assert file_tree(old) == before

    assert main(["migrate-layout", "--root", str(old), "--dry-run"]) == 0
    out_text = capsys.readouterr().out
    assert f"would move {old}/ledgers/ledgers/0-15/" in out_text and "would rewrite" in out_text
    assert file_tree(old) == before  # a dry run changes nothing

    assert main(["migrate-layout", "--root", str(old)]) == 0
    capsys.readouterr()
    assert file_tree(old).keys() == written.keys()
    for rel, data in written.items():
        if rel.startswith("_manifests/"):
            # paths in manifests are absolute: the copy's root differs, nothing else may
            assert json.loads(file_tree(old)[rel].decode().replace(str(old), str(out))) == json.loads(data), rel
        else:
            assert file_tree(old)[rel] == data, rel
    assert not list(old.glob("*/ledgers"))

    assert main(["migrate-layout", "--root", str(old)]) == 0
    assert "nothing to migrate" in capsys.readouterr().out
    assert main(["verify", "--path", str(old), "--manifests"]) == 0, capsys.readouterr().out
    # The migrated archive takes reruns: an overlapping run stays exact.
    cfg = job_config(str(store), 30, 50, old, TABLES, partition_by="ledger_range", ledgers_per_file=LPF)
    assert run_job(cfg, tmp_path) == 0
    capsys.readouterr()
    assert main(["verify", "--path", str(old), "--manifests"]) == 0, capsys.readouterr().out


def test_query_command_sees_the_range_column(archive, capsys):
    _, out, _ = archive
    sql = "SELECT ledger_range, count(*) FROM ledgers GROUP BY 1 ORDER BY min(sequence)"
    assert main(["query", "--root", str(out), "--sql", sql]) == 0
    text = capsys.readouterr().out
    for a in (0, 16, 32, 48, 64):
        assert f"{a}-{a + LPF - 1}" in text
