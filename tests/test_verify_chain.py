"""`verify --chain` on real archives: each proves, and each kind of tampering is detected and named.

Archives are written once per module by the real pipeline from data stores of different protocols
and LedgerCloseMeta versions (and both XDR encodings); every tampering test works on its own copy.
"""

from __future__ import annotations

import base64
import hashlib
import shutil
from datetime import timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from beam_pipeline.cli import main
from beam_pipeline.verify.chain_checks import result_facts
from tests.harness import datastore, job_config, manifests, parquet_files, run_job

pytestmark = pytest.mark.timeout(300)

TABLES = ["ledgers", "transactions"]
P19 = ("testnet-p19-lpf64", 1410048, 1410100)  # LCM v0, protocol 19, TransactionMeta V2
STORES = {
    "p19": (*P19, "base64"),
    "p20": ("testnet-p20-galexie", 997, 999, "binary"),  # LCM v1, protocol 20
    "p25": ("standalone-p25-loadtest", 10048, 10077, "binary"),  # LCM v2, protocol 25, 7740 txs
    "p13": ("mainnet-p13-30820015-metav2", 30820015, 30820015, "base64"),  # protocol 13, pubnet
    "p22": ("mainnet-p22-56065483", 56065483, 56065483, "binary"),  # LCM v1, protocol 22, pubnet
}
NETWORK = {"p19": "testnet", "p20": "testnet", "p25": "Standalone Network ; February 2017", "p13": "pubnet",
           "p22": "pubnet"}


@pytest.fixture(scope="module")
def archives(tmp_path_factory, shared_ledgers) -> dict[str, Path]:
    out = {}
    for key, (name, start, end, encoding) in STORES.items():
        work = tmp_path_factory.mktemp(key)
        cfg = job_config(datastore(name), start, end, work / "out", tables=TABLES, xdr_encoding=encoding)
        assert run_job(cfg, work) == 0
        out[key] = work / "out"
    return out


@pytest.fixture
def p19(archives, tmp_path) -> Path:
    root = tmp_path / "p19"
    shutil.copytree(archives["p19"], root)
    return root


def chain(capsys, root, *args: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["verify", "--path", str(root), "--chain", *args])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def problems(out: str, kind: str) -> list[str]:
    """The messages of one kind of problem (listed under "problems:", indented by four)."""
    prefix = f"    {kind}: "
    return [line[len(prefix):] for line in out.splitlines() if line.startswith(prefix)]


def rewrite(path: Path, change) -> None:
    """Reads a Parquet file, applies `change` to its table, and writes it back (same schema and metadata)."""
    table = pq.read_table(path)
    pq.write_table(change(table).replace_schema_metadata(table.schema.metadata), path)


def only_file(root: Path, table: str) -> Path:
    (path,) = parquet_files(root, table)
    return Path(path)


def ledger_hash(root: Path, seq: int) -> str:
    table = pq.read_table(only_file(root, "ledgers"), columns=["sequence", "ledger_hash"]).to_pylist()
    return next(r["ledger_hash"] for r in table if r["sequence"] == seq)


# --- real archives prove ------------------------------------------------------------------------


@pytest.mark.parametrize("key", sorted(STORES))
def test_real_archives_prove(key, archives, capsys):
    name, start, end, _ = STORES[key]
    code, out = chain(capsys, archives[key], "--network", NETWORK[key])
    assert code == 0, out
    n = end - start + 1
    assert f"ledgers: {n:,} of {n:,} archived and checked, {n:,} proven" in out
    assert f"first: ledger {start} hash " in out and f"last:  ledger {end} hash " in out
    txs = pq.read_table(only_file(archives[key], "transactions")).num_rows
    assert f"transactions: {txs:,} in {end - start + 1:,} ledgers checked" in out
    assert out.splitlines()[-1].startswith(f"result: ok, ledgers {start}-{end} are proven")


def test_the_first_ledger_hash_is_the_known_one(archives, capsys):
    # Pubnet ledger 30820015's hash, from the data's README (stellar-etl's golden ledger history).
    known = "b72b71394327c4f57c794afb8071fd1279903d9e1b9d90177ff36d64f4a24ad7"
    code, out = chain(capsys, archives["p13"], "--trust", f"30820015:{known}")
    assert code == 0, out
    assert "pinned to a trust anchor: ledgers 30820015" in out
    assert "proven to be one chain pinned to the trust anchors" in out


def test_synthetic_loadtest_ledgers_85_and_88_do_not_satisfy_tx_set_result_hash(tmp_path, shared_ledgers, capsys):
    # The data's README: standalone-p23-loadtest's ledgers 85 and 88 combine transactions synthetically.
    root = tmp_path / "out"
    for start, end in ((84, 85), (88, 88)):  # 86 and 87 are not in the data store
        cfg = job_config(datastore("standalone-p23-loadtest"), start, end, root, tables=TABLES)
        assert run_job(cfg, tmp_path) == 0
    code, out = chain(capsys, root, "--start-ledger", "84", "--end-ledger", "88")
    assert code == 1
    bad = problems(out, "results")
    assert [p.split(":")[0] for p in bad] == ["ledger 85", "ledger 88"], out
    assert all("not to the header's txSetResultHash" in p for p in bad)
    assert problems(out, "break") == ["break between ledger 85 and ledger 88: ledgers 86-87 are missing"]
    assert not problems(out, "header") and not problems(out, "counts")
    assert "ledgers: 3 of 5 archived and checked, 1 proven" in out  # ledger 84
    code, out = chain(capsys, root, "--start-ledger", "84", "--end-ledger", "84")
    assert code == 0, out  # ledger 84 (empty) passes every check


# --- tampering is detected and named -----------------------------------------------------------


def tamper_tx_result(root: Path, byte_offset: int) -> tuple[int, str]:
    """Flips one byte of the first transaction's tx_result at `byte_offset` (from the end if negative)."""
    path = only_file(root, "transactions")
    table = pq.read_table(path)
    results = table.column("tx_result").to_pylist()
    raw = bytearray(base64.b64decode(results[0]))
    raw[byte_offset] ^= 0x01
    results[0] = base64.b64encode(bytes(raw)).decode()
    i = table.schema.get_field_index("tx_result")
    rewrite(path, lambda t: t.set_column(i, "tx_result", pa.array(results, t.schema.field(i).type)))
    first = table.slice(0, 1).to_pylist()[0]
    return first["ledger_sequence"], first["transaction_hash"]


def test_a_changed_fee_byte_names_the_ledger_and_the_transaction(p19, capsys):
    seq, tx = tamper_tx_result(p19, 7)  # the low byte of feeCharged
    code, out = chain(capsys, p19)
    assert code == 1
    (bad,) = problems(out, "results")
    assert bad.startswith(f"ledger {seq}: its ") and "not to the header's txSetResultHash" in bad
    assert f"transaction {tx} (application order 1): its tx_result says fee_charged" in bad
    assert out.splitlines()[-1] == "result: FAILED, the range is not proven"


def test_a_changed_result_byte_names_the_ledger(p19, capsys):
    seq, _ = tamper_tx_result(p19, -1)  # the result's ext: no other column repeats it
    code, out = chain(capsys, p19)
    assert code == 1
    (bad,) = problems(out, "results")
    assert bad.startswith(f"ledger {seq}: ") and bad.endswith("which transaction differs the hash cannot tell")


def test_a_removed_ledger_row_is_a_break_naming_both_neighbours(p19, capsys):
    gone = 1410060
    rewrite(only_file(p19, "ledgers"), lambda t: t.filter(pc.not_equal(t.column("sequence"), gone)))
    code, out = chain(capsys, p19)
    assert code == 1
    assert problems(out, "break") == [
        f"break between ledger {gone - 1} and ledger {gone + 1}: ledgers {gone} are missing"
    ]
    # Its 3 transactions rows are still there, and named as having no ledger.
    assert problems(out, "orphan") == [f"ledger {gone}: 3 transactions rows but no ledgers row"]
    assert "ledgers: 52 of 53 archived and checked, 51 proven" in out  # 1410061 does not link


def test_an_edited_closed_at_is_named(p19, capsys):
    seq = 1410070

    def edit(t: pa.Table) -> pa.Table:
        closed = t.column("closed_at").to_pylist()
        seqs = t.column("sequence").to_pylist()
        closed[seqs.index(seq)] += timedelta(seconds=1)
        i = t.schema.get_field_index("closed_at")
        return t.set_column(i, "closed_at", pa.array(closed, t.schema.field(i).type))

    rewrite(only_file(p19, "ledgers"), edit)
    code, out = chain(capsys, p19)
    assert code == 1
    (bad,) = problems(out, "header")
    assert bad.startswith(f"ledger {seq}: closed_at is 2022-06-10T04:") and "in its ledger_header" in bad
    assert not problems(out, "break")  # the header itself is intact: the chain still links


def test_a_ledger_from_another_data_store_spliced_in_is_named(tmp_path, capsys):
    """Two data stores over the same ledgers (other network, so other hashes); one ledgers row of the
    second replaces the first's: its own hash and columns hold, but it links to neither neighbour and
    the first store's transactions do not hash to its header."""
    roots = {}
    for key, passphrase in (("a", "Standalone Network ; February 2017"), ("b", "Test SDF Network ; September 2015")):
        store = tmp_path / f"store-{key}"
        assert main(["sample", "--out", str(store), "--ledgers", "16", "--network-passphrase", passphrase]) == 0
        cfg = job_config(str(store), 2, 17, tmp_path / key, tables=TABLES, xdr_encoding="binary")
        assert run_job(cfg, tmp_path) == 0
        roots[key] = tmp_path / key
    code, out = chain(capsys, roots["a"])
    assert code == 0, out  # the sample store is a chain of its own
    spliced = 9
    other = pq.read_table(only_file(roots["b"], "ledgers"))
    row = other.filter(pc.equal(other.column("sequence"), spliced))
    rewrite(only_file(roots["a"], "ledgers"), lambda t: pa.concat_tables(
        [t.filter(pc.not_equal(t.column("sequence"), spliced)), row.cast(t.schema)]))
    code, out = chain(capsys, roots["a"])
    assert code == 1
    breaks = problems(out, "break")
    assert [b.split(":")[0] for b in breaks] == [f"break between ledger {spliced - 1} and ledger {spliced}",
                                                 f"break between ledger {spliced} and ledger {spliced + 1}"]
    assert not problems(out, "header")  # the foreign row is self-consistent
    assert [p.split(":")[0] for p in problems(out, "results")] == [f"ledger {spliced}"]


def test_trust_anchors_pin_the_chain_and_a_wrong_one_is_named(p19, tmp_path, capsys):
    last = ledger_hash(p19, 1410100)
    code, out = chain(capsys, p19, "--trust", f"1410100:{last.upper()}")
    assert code == 0, out
    assert "trust anchors: 1 given, used: 1410100" in out
    assert "pinned to a trust anchor: ledgers 1410048-1410100" in out
    wrong = hashlib.sha256(b"elsewhere").hexdigest()
    anchors = tmp_path / "anchors.txt"
    anchors.write_text(f"# from a history archive\n1410100 {last}\n1410080:{wrong}\n")
    code, out = chain(capsys, p19, "--trust-file", str(anchors))
    assert code == 1
    assert problems(out, "anchor") == [
        f"trust anchor 1410080: expected hash {wrong}, the archive's ledger 1410080 hashes to "
        f"{ledger_hash(p19, 1410080)}"
    ]
    assert "pinned to a trust anchor: ledgers 1410048-1410100" in out  # the right anchor still pins all
    code, out = chain(capsys, p19, "--trust", f"1410200:{wrong}")
    assert code == 1 and problems(out, "anchor") == ["trust anchor 1410200 is outside the range 1410048-1410100"]
    code, out = chain(capsys, p19, "--trust", "1410100:nothex")
    assert code == 2 and "the hash must be 64 hex digits" in out


def test_the_network_must_be_the_recorded_one(p19, capsys):
    (m,) = manifests(p19)
    assert m["network_passphrase"] == "Test SDF Network ; September 2015"
    code, out = chain(capsys, p19, "--network", "pubnet")
    assert code == 1
    assert problems(out, "network") == [
        f"run {m['run_id']} recorded network 'Test SDF Network ; September 2015', "
        "expected 'Public Global Stellar Network ; September 2015'",
        "no tx_envelope of the 53 ledgers with transactions (1410048-1410100) hashes to its transaction_hash "
        "under network 'Public Global Stellar Network ; September 2015': they were made for another network",
    ]
    assert not problems(out, "envelopes")


def test_an_edited_envelope_is_named_by_its_network_hash(p19, capsys):
    """The envelope is not in the header's hash, but its network hash is the proven transaction_hash."""
    path = only_file(p19, "transactions")
    table = pq.read_table(path)
    envelopes = table.column("tx_envelope").to_pylist()
    raw = bytearray(base64.b64decode(envelopes[5]))
    raw[60] ^= 0x01  # inside the transaction body (fee / sequence number / source account)
    envelopes[5] = base64.b64encode(bytes(raw)).decode()
    i = table.schema.get_field_index("tx_envelope")
    rewrite(path, lambda t: t.set_column(i, "tx_envelope", pa.array(envelopes, t.schema.field(i).type)))
    row = table.slice(5, 1).to_pylist()[0]
    code, out = chain(capsys, p19)
    assert code == 1
    (bad,) = problems(out, "envelopes")
    assert bad.startswith(f"ledger {row['ledger_sequence']}: 1 of ")
    assert f"first: transaction {row['transaction_hash']} (application order" in bad
    assert not problems(out, "results") and not problems(out, "network")


def test_without_a_recorded_network_the_envelopes_decide(p19, capsys):
    for m in (p19 / "_manifests").iterdir():
        m.unlink()
    code, out = chain(capsys, p19, "--start-ledger", "1410048", "--end-ledger", "1410100")
    assert code == 0, out
    assert "envelopes not checked against their transaction hashes" in out
    code, out = chain(capsys, p19, "--start-ledger", "1410048", "--end-ledger", "1410100", "--network", "testnet")
    assert code == 0, out  # the envelopes' network hashes prove the network given
    assert "warning: no run manifest records a network passphrase to compare with 'Test SDF" in out
    assert "and their envelopes' network hashes" in out
    code, out = chain(capsys, p19, "--start-ledger", "1410048", "--end-ledger", "1410100", "--network", "pubnet")
    assert code == 1
    (wrong_network,) = problems(out, "network")
    assert wrong_network.startswith("no tx_envelope of the 53 ledgers with transactions (1410048-1410100)")


def test_chain_over_config_uses_its_root_range_and_network(archives, tmp_path, capsys):
    from tests.harness import write_config

    name, start, end, encoding = STORES["p20"]
    cfg = job_config(datastore(name), start, end, archives["p20"], tables=TABLES, xdr_encoding=encoding)
    cfg["pipeline"]["source"]["config"]["network"] = "pubnet"  # wrong on purpose: the manifest says testnet
    capsys.readouterr()
    code = main(["verify", "--config", str(write_config(cfg, tmp_path)), "--chain"])
    out = capsys.readouterr().out
    assert code == 1 and problems(out, "network"), out


def test_result_facts_read_fee_bump_results(archives):
    """The operation counts `--chain` derives from results agree with the writer's for every transaction."""
    rows = pq.read_table(only_file(archives["p25"], "transactions"),
                         columns=["tx_result", "fee_charged", "successful"]).to_pylist()
    for r in rows:
        facts = result_facts(r["tx_result"])
        assert (facts.fee_charged, facts.successful) == (r["fee_charged"], r["successful"])


def test_chain_reads_s3_and_gcs_archives(archives, capsys, monkeypatch):
    from tests.fakes.gcs_server import running_gcs_server
    from tests.fakes.s3_server import FAKE_CREDENTIALS, running_s3_server

    for k, v in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(k, v)
    with running_s3_server() as s3:
        s3.create_bucket("lake")
        s3.upload_tree(archives["p20"], "lake", "stellar")
        code, out = chain(capsys, "s3://lake/stellar", f"--s3_endpoint_url={s3.endpoint}")
        assert code == 0, out
        assert "transactions: 17 in 3 ledgers checked" in out
    with running_gcs_server() as gcs:
        monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcs.endpoint)
        gcs.create_bucket("lake")
        gcs.upload_tree(archives["p19"], "lake", "stellar")
        code, out = chain(capsys, "gs://lake/stellar")
        assert code == 0, out
        assert "ledgers: 53 of 53 archived and checked" in out


def test_layout_flags_do_not_go_with_chain(p19, capsys):
    code, out = chain(capsys, p19, "--manifests")
    assert code == 2 and "--manifests, --partition-by and --ledgers-per-file go with the layout checks" in out
    code, out = chain(capsys, p19, "--trust", "1410100:" + "0" * 64, "--trust", "1410100:" + "1" * 64)
    assert code == 2 and "trust anchors disagree about ledger 1410100" in out


def test_tables_ledgers_skips_the_transactions_checks(p19, capsys):
    tamper_tx_result(p19, 7)
    code, out = chain(capsys, p19, "--tables", "ledgers")
    assert code == 0, out
    assert "transactions: not checked (no transactions table, or not in --tables)" in out


def test_the_chain_links_across_hours_days_and_runs(tmp_path, capsys):
    """The sample store's 64 ledgers cross an hour and a day; two runs archive them by hour."""
    store = tmp_path / "store"
    assert main(["sample", "--out", str(store), "--ledgers", "64"]) == 0
    root = tmp_path / "out"
    for start, end in ((2, 40), (41, 65)):
        cfg = job_config(str(store), start, end, root, tables=TABLES, partition_by="hour")
        assert run_job(cfg, tmp_path) == 0
    partitions = {Path(p).parent for p in parquet_files(root, "ledgers")}
    days = {p.parent.name for p in partitions}
    assert len(partitions) >= 2 and len(days) == 2 and len(manifests(root)) == 2
    code, out = chain(capsys, root, "--trust", f"65:{ledger_hash_any(root, 65)}")
    assert code == 0, out
    assert "ledgers: 64 of 64 archived and checked, 64 proven" in out
    assert "pinned to a trust anchor: ledgers 2-65" in out and "recorded by 2 run(s)" in out


def ledger_hash_any(root: Path, seq: int) -> str:
    for path in parquet_files(root, "ledgers"):
        for r in pq.read_table(path, columns=["sequence", "ledger_hash"]).to_pylist():
            if r["sequence"] == seq:
                return r["ledger_hash"]
    raise AssertionError(f"ledger {seq} not archived")
