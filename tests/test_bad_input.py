"""Bad input fails clearly: real data store objects damaged on purpose, and broken config files.

Every failure must exit with the documented code, name the object key and/or ledger on stderr,
and leave nothing of the failed run behind: no final Parquet file, no `_temporary`, no manifest.
With ``on_error: dead_letter`` the same damage is written to `_dead_letter/` and the rest archived.

The writable store copies and object rewriting come from `tests.damage`, shared with the safety tests.
"""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from stellar_sdk import xdr

from beam_pipeline.cli import main
from tests.damage import (
    BAD,
    END,
    KEY,
    LEDGERS_PER_BATCH,
    START,
    STORE,
    assert_nothing_left,
    copy_store,
    object_path,
    read_batch,
    read_xdr,
    write_batch,
    write_xdr,
)
from tests.harness import datastore, job_config, run_captured, write_config

# --- damaged objects ---------------------------------------------------------------------------


def truncated_frame(store: Path) -> None:
    p = object_path(store, BAD)
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2])


def corrupt_frame(store: Path) -> None:
    p = object_path(store, BAD)
    data = bytearray(p.read_bytes())
    data[4:12] = b"\xff" * 8  # the frame header: a frame no decoder accepts
    p.write_bytes(bytes(data))


def truncated_xdr(store: Path) -> None:
    payload = read_xdr(store, BAD)
    write_xdr(store, BAD, payload[: len(payload) - 1000])


def garbage_xdr(store: Path) -> None:
    write_xdr(store, BAD, random.Random(7).randbytes(200_000))


def shifted_sequences(store: Path) -> None:
    batch = read_batch(store, BAD)
    batch.start_sequence = xdr.Uint32(BAD + 1)
    batch.end_sequence = xdr.Uint32(BAD + LEDGERS_PER_BATCH)
    write_batch(store, BAD, batch)


def wrong_key(store: Path) -> None:
    shutil.copy(object_path(store, 1410048), object_path(store, BAD))


def out_of_order(store: Path) -> None:
    batch = read_batch(store, BAD)
    metas = batch.ledger_close_metas
    metas[3], metas[4] = metas[4], metas[3]
    write_batch(store, BAD, batch)


def repeated(store: Path) -> None:
    batch = read_batch(store, BAD)
    batch.ledger_close_metas[5] = batch.ledger_close_metas[4]
    write_batch(store, BAD, batch)


DAMAGE = {
    "truncated zstd frame": (truncated_frame, [KEY, "truncated zstd frame"]),
    "corrupt zstd bytes": (corrupt_frame, [KEY, "corrupt zstd data"]),
    "valid zstd, truncated XDR": (truncated_xdr, [KEY, "undecodable LedgerCloseMetaBatch XDR"]),
    "valid zstd, garbage XDR": (garbage_xdr, [KEY, "undecodable LedgerCloseMetaBatch XDR"]),
    "batch start/end shifted": (
        shifted_sequences,
        [KEY, f"batch holds ledgers {BAD + 1}-{BAD + 64} but its key promises {BAD}-{BAD + 63}"],
    ),
    "batch at the wrong key": (wrong_key, [KEY, f"batch holds ledgers 1410048-1410111 but its key promises {BAD}-"]),
    "ledgers out of order": (
        out_of_order,
        [KEY, f"ledger at position 3 of batch {BAD}-{BAD + 63} is {BAD + 4}, expected {BAD + 3}"],
    ),
    "ledger repeated": (
        repeated,
        [KEY, f"ledger at position 5 of batch {BAD}-{BAD + 63} is {BAD + 4}, expected {BAD + 5}"],
    ),
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_damaged_object_fails_the_run_and_names_it(damage, tmp_path, capsys, shared_ledgers):
    store = copy_store(tmp_path)
    make_damage, expected = DAMAGE[damage]
    make_damage(store)
    out = tmp_path / "out"
    cfg = job_config(str(store), START, END, out, tables=["ledgers", "transactions"])
    code, stdout, err = run_captured(capsys, cfg, tmp_path)
    assert code == 1, stdout + err
    last = err.strip().splitlines()[-1]
    assert last.startswith("error: run r") and " failed: " in last
    for text in expected:
        assert text in last, last
    assert_nothing_left(out)


def test_missing_object_in_the_middle_is_named(tmp_path, capsys, shared_ledgers):
    store = copy_store(tmp_path)
    object_path(store, BAD).unlink()
    out = tmp_path / "out"
    code, _, err = run_captured(capsys, job_config(str(store), START, 1410180, out, tables=["ledgers"]), tmp_path)
    assert code == 1
    assert f"{KEY}: object for ledgers {BAD}-{BAD + 63} is missing from the data store" in err
    assert_nothing_left(out)


def _manifest_missing(store: Path) -> None:
    (store / ".config.json").unlink()


def _manifest_malformed(store: Path) -> None:
    (store / ".config.json").write_text('{"networkPassphrase": "Test SDF Network ; September 2015", ')


def _manifest_bad_field(store: Path) -> None:
    m = json.loads((store / ".config.json").read_text())
    m["ledgersPerBatch"] = "64"
    (store / ".config.json").write_text(json.dumps(m))


MANIFEST_CASES = {
    "missing": (_manifest_missing, {}, "data store manifest is missing"),
    "malformed": (_manifest_malformed, {}, "malformed JSON"),
    "wrong field type": (_manifest_bad_field, {}, "ledgersPerBatch must be int, got '64'"),
    "other network": (None, {"network": "pubnet"}, "data store is for network 'Test SDF Network ; September 2015'"),
    "other ledgers_per_file": (None, {"ledgers_per_file": 1}, "has ledgers_per_file = 64, but the config says 1"),
    "other files_per_partition": (
        None,
        {"files_per_partition": 64000},
        "files_per_partition = 10, but the config says 64000",
    ),
}


@pytest.mark.parametrize("case", list(MANIFEST_CASES))
def test_datastore_manifest_problems_name_the_file(case, tmp_path, capsys, shared_ledgers):
    store = copy_store(tmp_path)
    damage, source_keys, expected = MANIFEST_CASES[case]
    if damage:
        damage(store)
    cfg = job_config(str(store), START, END, tmp_path / "out", tables=["ledgers"])
    cfg["pipeline"]["source"]["config"].update(source_keys)
    code, _, err = run_captured(capsys, cfg, tmp_path)
    assert code == 1
    assert f"{store}/.config.json" in err
    assert expected in err
    assert_nothing_left(tmp_path / "out")


# --- broken config files -------------------------------------------------------------------------


def _config_text(tmp_path: Path, text: str) -> str:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    return str(path)


def _valid_yaml(tmp_path: Path, edit) -> str:
    cfg = job_config(datastore(STORE), START, END, tmp_path / "out", tables=["ledgers"])
    edit(cfg["pipeline"])
    return write_config(cfg, tmp_path, "bad.yaml")


CONFIG_CASES = {
    "yaml syntax": (
        lambda tmp: _config_text(tmp, "pipeline:\n  name: [unclosed\n  source: {}\n"),
        ["YAML syntax error", "line"],
    ),
    "wrong type": (
        lambda tmp: _valid_yaml(tmp, lambda p: p["source"]["config"].update(start_ledger="soon")),
        ["pipeline.source.config.start_ledger: expected an integer, got str 'soon'"],
    ),
    "wrong sink type": (
        lambda tmp: _valid_yaml(tmp, lambda p: p["consumers"][0]["config"].update(num_shards=True)),
        ["pipeline.consumers[0].config.num_shards: expected an integer, got a boolean"],
    ),
    "unknown key": (
        lambda tmp: _valid_yaml(tmp, lambda p: p["consumers"][0]["config"].update(compresion="zstd")),
        ["pipeline.consumers[0].config.compresion: unknown key"],
    ),
    "unknown on_error": (
        lambda tmp: _valid_yaml(tmp, lambda p: p.update(on_error="ignore")),
        ["pipeline.on_error: 'ignore' is not one of fail, dead_letter"],
    ),
    "unreadable path": (lambda tmp: str(tmp), ["cannot read the file"]),
    "absent path": (lambda tmp: str(tmp / "absent.yaml"), ["absent.yaml", "cannot read the file"]),
}


@pytest.mark.parametrize("case", list(CONFIG_CASES))
def test_broken_config_exits_2_naming_file_and_key(case, tmp_path, capsys):
    make, expected = CONFIG_CASES[case]
    path = make(tmp_path)
    capsys.readouterr()
    code = main(["run", "--config", path])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith(f"{path}: invalid config:")
    for text in expected:
        assert text in err
    assert not (tmp_path / "out").exists()
    # validate reports the same, without running anything.
    assert main(["validate", "--config", path]) == 2


# --- dead letters --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "damage, message",
    [(truncated_frame, "truncated zstd frame"), (out_of_order, "out of order or repeated")],
    ids=["unreadable object", "bad batch"],
)
def test_dead_letter_mode_archives_the_rest(damage, message, tmp_path, capsys, shared_ledgers):
    store = copy_store(tmp_path)
    damage(store)
    out = tmp_path / "out"
    cfg = job_config(str(store), START, 1410180, out, tables=["ledgers", "transactions"])
    cfg["pipeline"]["on_error"] = "dead_letter"
    code, stdout, err = run_captured(capsys, cfg, tmp_path)
    assert code == 3, stdout + err
    assert "DEAD LETTERS: 1 units failed" in stdout

    (dl,) = (out / "_dead_letter").glob("*.parquet")
    rows = pq.read_table(dl).to_pylist()
    assert len(rows) == 1
    assert rows[0]["unit"] == KEY
    assert rows[0]["error_class"] == "LedgerError"
    assert KEY in rows[0]["message"] and message in rows[0]["message"]
    assert dl.stem == rows[0]["run_id"]

    # Every other ledger is archived whole: verify finds exactly the dead-lettered batch missing.
    capsys.readouterr()
    assert main(["verify", "--path", str(out), "--start-ledger", str(START), "--end-ledger", "1410180"]) == 1
    report = capsys.readouterr().out
    assert f"missing: 64 ledgers have no row: {BAD}-{BAD + 63}" in report
    tx_line = next(line for line in report.splitlines() if line.strip().startswith("transactions "))
    assert tx_line.endswith("ok")
    assert not (out / "_temporary").exists()
