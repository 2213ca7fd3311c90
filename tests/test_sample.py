"""Tests for the embedded sample datastore: layout, determinism and ledger validity."""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import zstandard
from stellar_sdk import Keypair, xdr

from beam_pipeline import sample
from beam_pipeline.sources import sep54
from beam_pipeline.xdr.ledger import LedgerView, decode_batch, network_id, transaction_hash
from tests.harness import DATASTORES

PASSPHRASE = sample.STANDALONE_PASSPHRASE
GALEXIE_CONFIG = DATASTORES / "testnet-p20-galexie" / ".config.json"


def _objects(root: Path) -> dict[str, bytes]:
    """Every file under root but the manifest, by key with '/' separators."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _one_frame(data: bytes) -> bytes:
    """Decompress, insisting on exactly one complete zstd frame (what SEP-54 readers expect)."""
    dobj = zstandard.ZstdDecompressor().decompressobj()
    out = dobj.decompress(data)
    assert dobj.eof and dobj.unused_data == b"", "object is not exactly one zstd frame"
    return out


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("sample")
    return root, sample.write_sample_datastore(str(root))


@pytest.fixture(scope="module")
def batches(store: tuple[Path, dict]) -> dict[str, xdr.LedgerCloseMetaBatch]:
    root, summary = store
    return {key: decode_batch(_one_frame((root / key).read_bytes())) for key in summary["keys"]}


@pytest.fixture(scope="module")
def views(batches: dict[str, xdr.LedgerCloseMetaBatch]) -> list[LedgerView]:
    return [LedgerView(lcm, PASSPHRASE, key) for key, b in batches.items() for lcm in b.ledger_close_metas]


@pytest.fixture(scope="module")
def txs(views: list[LedgerView]) -> list:
    return [tx for v in views for tx in v.transactions]


def test_same_arguments_give_identical_bytes(store: tuple[Path, dict], tmp_path: Path) -> None:
    root, _ = store
    sample.write_sample_datastore(str(tmp_path))
    assert _objects(tmp_path) == _objects(root)


def test_other_passphrase_changes_the_transactions(tmp_path: Path) -> None:
    a = sample.generate_ledgers(3, network_passphrase=PASSPHRASE)
    b = sample.generate_ledgers(3, network_passphrase="Test SDF Network ; September 2015")
    assert [x.xdr for x in a] != [y.xdr for y in b]


def test_object_key_matches_sep54_example() -> None:
    # The example of /work/shared/ledgers/README.md, plus the no-partition and one-ledger forms.
    assert sep54.object_key(56065483, 1, 64000) == "FCA887FF--56064000-56127999/FCA88234--56065483.xdr.zst"
    assert sep54.object_key(10, 8, 1) == "FFFFFFF7--8-15.xdr.zst"
    assert sep54.object_key(997, 1, 1, "zstd") == "FFFFFC1A--997.xdr.zstd"


def test_config_json_is_galexie_manifest(store: tuple[Path, dict]) -> None:
    root, _ = store
    text = (root / ".config.json").read_text()
    config = json.loads(text)
    assert config == {
        "networkPassphrase": PASSPHRASE,
        "version": "1.0",
        "compression": "zstd",
        "ledgersPerBatch": 8,
        "batchesPerPartition": 4,
    }
    if GALEXIE_CONFIG.exists():  # same key order and formatting as a manifest galexie wrote
        real = GALEXIE_CONFIG.read_text()
        assert list(json.loads(real)) == list(config)
        assert real == json.dumps(json.loads(real), indent=2) + "\n"
    assert text == json.dumps(config, indent=2) + "\n"


def test_objects_sit_at_formula_keys_and_hold_their_ranges(
    store: tuple[Path, dict], batches: dict[str, xdr.LedgerCloseMetaBatch]
) -> None:
    root, summary = store
    assert sorted(_objects(root)) == sorted([".config.json", *summary["keys"]])
    assert summary["objects"] == len(summary["keys"]) == 9  # 2..65 in batches of 8: 0-7 .. 64-71
    assert summary["keys"][0] == "FFFFFFFF--0-31/FFFFFFFF--0-7.xdr.zst"
    assert summary["keys"][-1] == "FFFFFFBF--64-95/FFFFFFBF--64-71.xdr.zst"
    covered = []
    for key, batch in batches.items():
        start, end = batch.start_sequence.uint32, batch.end_sequence.uint32
        seqs = [m.v1.ledger_header.header.ledger_seq.uint32 for m in batch.ledger_close_metas]
        assert seqs == list(range(start, end + 1))
        assert start // 8 == end // 8  # never straddles two batch ranges
        assert sep54.object_key(start, 8, 4) == key == sep54.object_key(end, 8, 4)
        covered += seqs
    assert covered == list(range(2, 66))
    assert (summary["first_ledger"], summary["last_ledger"], summary["ledgers"]) == (2, 65, 64)


def test_ledgers_are_lcm_v1_protocol_22_with_generalized_tx_sets(views: list[LedgerView]) -> None:
    for v in views:
        assert (v.version, v.protocol_version) == (1, 22)
        tx_set = v.body.tx_set
        assert tx_set.v == 1 and len(tx_set.v1_tx_set.phases) == 2
        assert all(p.v == 0 for p in tx_set.v1_tx_set.phases)
        assert tx_set.v1_tx_set.phases[1].v0_components == []  # no Soroban transactions


def test_every_result_pairs_with_a_signed_envelope(views: list[LedgerView], store: tuple[Path, dict]) -> None:
    net = network_id(PASSPHRASE)
    total = 0
    for v in views:
        txs = v.transactions  # raises if any result hash has no envelope
        assert len(txs) == len(v.envelopes) == len(v.body.tx_processing)
        for tx in txs:
            assert transaction_hash(tx.envelope, net) == tx.hash
            env = tx.envelope.v1
            source = Keypair.from_raw_ed25519_public_key(env.tx.source_account.ed25519.uint256)
            assert len(env.signatures) == 1
            source.verify(tx.hash, env.signatures[0].signature.signature)  # raises if bad
        total += len(txs)
    assert total == store[1]["transactions"] > 100


def test_header_hash_chain_and_set_hashes_hold(views: list[LedgerView]) -> None:
    validator = None
    for prev, v in zip([None, *views], views, strict=False):
        header = v.header
        assert hashlib.sha256(header.to_xdr_bytes()).digest() == v.header_entry.hash.hash
        if prev is not None:
            assert header.previous_ledger_hash.hash == prev.header_entry.hash.hash
            assert header.ledger_seq.uint32 == prev.sequence + 1
        tx_set = v.body.tx_set
        assert tx_set.v1_tx_set.previous_ledger_hash.hash == header.previous_ledger_hash.hash
        assert hashlib.sha256(tx_set.to_xdr_bytes()).digest() == header.scp_value.tx_set_hash.hash
        results = xdr.TransactionResultSet([t.result for t in v.body.tx_processing])
        assert hashlib.sha256(results.to_xdr_bytes()).digest() == header.tx_set_result_hash.hash
        sig = header.scp_value.ext.lc_value_signature
        key = Keypair.from_raw_ed25519_public_key(sig.node_id.node_id.ed25519.uint256)
        validator = validator or key
        assert key == validator
        signed = (
            network_id(PASSPHRASE)
            + (4).to_bytes(4, "big")
            + header.scp_value.tx_set_hash.hash
            + v.close_time.to_bytes(8, "big")
        )
        key.verify(signed, sig.signature.signature)


def test_close_times_increase_and_cross_hour_and_day(views: list[LedgerView], store: tuple[Path, dict]) -> None:
    times = [v.close_time for v in views]
    assert all(b - a == 5 for a, b in itertools.pairwise(times))
    assert views[0].closed_at == datetime(2025, 1, 1, 23, 55, tzinfo=UTC)
    assert len({v.closed_at.date() for v in views}) == 2
    assert len({v.closed_at.replace(minute=0, second=0) for v in views}) == 2
    assert (store[1]["first_close_time"], store[1]["last_close_time"]) == (times[0], times[-1])


def test_operation_mix_covers_classic_families(txs: list) -> None:
    ops = [(tx, op) for tx in txs for op in tx.operations]
    kinds = {op.body.type for _, op in ops}
    t = xdr.OperationType
    assert {t.CREATE_ACCOUNT, t.PAYMENT, t.CHANGE_TRUST, t.MANAGE_SELL_OFFER, t.MANAGE_BUY_OFFER} <= kinds
    paid = {op.body.payment_op.asset.type for _, op in ops if op.body.type == t.PAYMENT}
    assert paid == {xdr.AssetType.ASSET_TYPE_NATIVE, xdr.AssetType.ASSET_TYPE_CREDIT_ALPHANUM4}
    assert any(len(tx.operations) > 1 for tx in txs)
    trades = [
        r.tr.manage_buy_offer_result.success.offers_claimed
        for tx in txs
        if tx.successful
        for r in tx.operation_results
        if r.tr.type == t.MANAGE_BUY_OFFER
    ]
    assert any(trades), "no offer ever crossed, so the trades table would be empty"


def _code(result: xdr.OperationResult) -> int:
    inner = next(v for k, v in vars(result.tr).items() if k != "type" and v is not None)
    return inner.code.value


def test_results_match_op_types_and_failures_are_failed(txs: list) -> None:
    failed = [tx for tx in txs if not tx.successful]
    assert 0 < len(failed) < len(txs)
    for tx in txs:
        results = tx.operation_results
        assert len(results) == len(tx.operations)
        for op, r in zip(tx.operations, results, strict=True):
            assert r.code == xdr.OperationResultCode.opINNER and r.tr.type == op.body.type
        assert tx.result.fee_charged.int64 == 100 * len(tx.operations)
        if tx.successful:
            assert all(_code(r) == 0 for r in results)
            assert len(tx.operation_metas) == len(tx.operations)
        else:
            assert tx.result.result.code == xdr.TransactionResultCode.txFAILED
            assert any(_code(r) < 0 for r in results)
            assert tx.operation_metas == []  # a failed transaction changes nothing but fee and sequence
    assert any(len(tx.operations) > 1 and _code(tx.operation_results[0]) == 0 for tx in failed)


def test_meta_records_fees_sequence_bumps_and_created_entries(txs: list) -> None:
    change = xdr.LedgerEntryChangeType
    created_by_op = {
        xdr.OperationType.CREATE_ACCOUNT: xdr.LedgerEntryType.ACCOUNT,
        xdr.OperationType.CHANGE_TRUST: xdr.LedgerEntryType.TRUSTLINE,
    }
    for tx in txs:
        seq = tx.ledger.sequence
        source = tx.envelope.v1.tx.source_account.ed25519.uint256
        fee = tx.fee_changes.ledger_entry_changes
        assert [c.type for c in fee] == [change.LEDGER_ENTRY_STATE, change.LEDGER_ENTRY_UPDATED]
        before, after = fee[0].state.data.account, fee[1].updated.data.account
        assert before.account_id.account_id.ed25519.uint256 == source
        assert before.balance.int64 - after.balance.int64 == tx.result.fee_charged.int64
        assert fee[1].updated.last_modified_ledger_seq.uint32 == seq
        bump = tx.meta.v3.tx_changes_before.ledger_entry_changes
        assert (
            bump[1].updated.data.account.seq_num.sequence_number.int64
            == tx.envelope.v1.tx.seq_num.sequence_number.int64
        )
        if not tx.successful:
            continue
        for op, op_meta in zip(tx.operations, tx.operation_metas, strict=True):
            changes = op_meta.changes.ledger_entry_changes
            assert changes
            created = {c.created.data.type for c in changes if c.type == change.LEDGER_ENTRY_CREATED}
            if op.body.type in created_by_op:
                assert created == {created_by_op[op.body.type]}
            if op.body.type == xdr.OperationType.MANAGE_SELL_OFFER:
                assert created == {xdr.LedgerEntryType.OFFER}


def test_cli_arguments_and_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser()
    sample.add_arguments(parser)
    args = parser.parse_args(["--out", str(tmp_path / "ds"), "--ledgers", "5", "--ledgers-per-batch", "2"])
    summary = sample.run(args)
    assert (summary["first_ledger"], summary["last_ledger"], summary["objects"]) == (2, 6, 3)
    assert "wrote 3 objects" in capsys.readouterr().out
    assert json.loads((tmp_path / "ds/.config.json").read_text())["ledgersPerBatch"] == 2


@pytest.mark.parametrize("kwargs", [{"ledgers": 0}, {"start_ledger": 1}, {"ledgers_per_batch": 0}])
def test_rejects_impossible_arguments(tmp_path: Path, kwargs: dict) -> None:
    with pytest.raises(ValueError):
        sample.write_sample_datastore(str(tmp_path), **kwargs)
