"""`verify` over an absurd range answers from the archive's own extent, refuses non-ledger numbers, and
reports running out of memory as a named resource error (exit 2), not as findings (exit 1)."""

from __future__ import annotations

import pytest

from beam_pipeline.cli import main
from beam_pipeline.config import LEDGER_MAX
from beam_pipeline.verify import scan
from tests.harness import datastore, job_config, run_job

START, END = 1410048, 1410060


@pytest.fixture(scope="module")
def archive(tmp_path_factory, shared_ledgers):
    tmp = tmp_path_factory.mktemp("verify-bounds")
    cfg = job_config(datastore("testnet-p19-lpf64"), START, END, tmp / "out", tables=["ledgers", "contract_events"])
    assert run_job(cfg, tmp) == 0
    return tmp / "out"


def _verify(capsys, *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["verify", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.timeout(120)
def test_the_whole_ledger_space_is_checked_from_the_archive_extent(archive, capsys):
    """1..2^32-1 over 13 archived ledgers: the ledgers outside the archive are counted, not generated (this
    used to materialize 4 billion ledgers and end in a DuckDB out-of-memory traceback with exit 1)."""
    code, out, err = _verify(capsys, "--path", str(archive), "--start-ledger", "1", "--end-ledger", str(LEDGER_MAX))
    assert code == 1, err
    missing = LEDGER_MAX - (END - START + 1)
    assert f"missing: {missing} ledgers have no row: 1-{START - 1}, {END + 1}-{LEDGER_MAX}" in out
    # No contract events at all: the run's zero-row set (sinks/empty_tables.py) covers its own ledgers only.
    assert f"{missing} ledgers have no rows and no file set covers them" in out
    assert f"tells which): 1-{START - 1}, {END + 1}-{LEDGER_MAX}" in out
    assert "Traceback" not in err


def test_a_range_inside_the_archive_is_still_checked_ledger_by_ledger(archive, capsys):
    code, out, _ = _verify(capsys, "--path", str(archive), "--start-ledger", str(START - 2), "--end-ledger", str(END))
    assert code == 1
    assert f"missing: 2 ledgers have no row: {START - 2}-{START - 1}" in out
    code, out, _ = _verify(capsys, "--path", str(archive), "--start-ledger", str(START), "--end-ledger", str(END))
    assert code == 0 and out.strip().endswith("result: ok, the archive is exact")


@pytest.mark.parametrize("flag, value", [("--end-ledger", "99999999999999999999"), ("--end-ledger", str(2**32)),
                                         ("--start-ledger", "0")])
def test_numbers_that_are_not_ledgers_are_refused(archive, capsys, flag, value):
    code, out, err = _verify(capsys, "--path", str(archive), flag, value)
    assert code == 2 and out == ""
    assert f"error: {flag}: {value} is not a ledger sequence (1 to {LEDGER_MAX})" in err


def test_running_out_of_memory_is_a_named_resource_error(archive, capsys, monkeypatch):
    """A real DuckDB out-of-memory error (a 1 MB limit): exit 2 naming the archive, not exit 1 with a traceback."""
    monkeypatch.setattr(scan, "MEMORY_LIMIT", "1MB")
    code, out, err = _verify(capsys, "--path", str(archive))
    assert code == 2 and out == ""
    assert err.startswith(f"error: verify {archive}: DuckDB ran out of memory or disk space (Out of Memory Error")
    assert "Traceback" not in err
