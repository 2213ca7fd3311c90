"""Generate a small, deterministic SEP-54 ("galexie") datastore of synthetic Stellar ledgers.

The README's demo and the end-to-end tests must run without network access or external data, so
the project writes its own datastore. The ledgers are synthetic but structurally real: they are
LedgerCloseMeta v1 at protocol 22 (what galexie exported in 2024-2025), with a
GeneralizedTransactionSet v1 of two phases (classic with one component, and an empty Soroban
phase), TransactionMeta V3, signed envelopes whose network hashes are the result pairs'
``transactionHash``, and a header hash chain that holds. Balances and sequence numbers come from a
tiny in-memory world model that is consistent within itself, not from a replay by stellar-core.

Every byte is a function of the arguments: keys come from fixed seeds, close times are fixed and
5 s apart, and no clock or random source is read.

``world`` holds the ledger state and its change records, ``actions`` the transaction scenarios;
this module signs and applies them, assembles ledgers, and writes the datastore.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import struct
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NamedTuple

import zstandard
from stellar_sdk import Account, Keypair, TransactionBuilder, xdr

from beam_pipeline.sample.actions import Plan, plan_next
from beam_pipeline.sample.world import BASE_RESERVE, TOTAL_COINS, Changes, World, keypair
from beam_pipeline.sources.sep54 import object_key
from beam_pipeline.xdr.ledger import network_id

STANDALONE_PASSPHRASE = "Standalone Network ; February 2017"
PROTOCOL_VERSION = 22
FIRST_CLOSE_TIME = 1735775700  # 2025-01-01T23:55:00Z: the default 64 ledgers cross an hour and a day
CLOSE_INTERVAL = 5
BASE_FEE = 100
_ENVELOPE_TYPE_SCPVALUE = (4).to_bytes(4, "big")


@dataclass
class _TxOut:
    envelope: xdr.TransactionEnvelope
    meta: xdr.TransactionResultMeta
    success: bool


def _run_tx(w: World, plan: Plan, seq: int, close_time: int) -> _TxOut:
    """Sign the planned transaction, charge its fee, bump its sequence and apply it."""
    src, add_ops, apply = plan
    builder = TransactionBuilder(Account(src.address, src.seq), w.passphrase, base_fee=BASE_FEE)
    add_ops(builder)
    builder.add_time_bounds(0, close_time + 300)
    envelope = builder.build()
    envelope.sign(src.keypair)
    n_ops = len(envelope.transaction.operations)
    fee = BASE_FEE * n_ops
    tx_seq = envelope.transaction.sequence

    fee_changes = Changes(seq)
    fee_changes.touch(src, lambda: setattr(src, "balance", src.balance - fee))
    w.fee_pool += fee
    before = Changes(seq)
    before.touch(src, lambda: setattr(src, "seq", tx_seq))
    applied = apply(seq)

    code = xdr.TransactionResultCode.txSUCCESS if applied.success else xdr.TransactionResultCode.txFAILED
    result = xdr.TransactionResult(
        fee_charged=xdr.Int64(fee),
        result=xdr.TransactionResultResult(code, results=applied.results),
        ext=xdr.TransactionResultExt(0),
    )
    op_metas = [xdr.OperationMeta(ch.xdr()) for ch in applied.op_changes] if applied.success else []
    meta = xdr.TransactionMeta(
        3,
        v3=xdr.TransactionMetaV3(
            ext=xdr.ExtensionPoint(0),
            tx_changes_before=before.xdr(),
            operations=op_metas,
            tx_changes_after=xdr.LedgerEntryChanges([]),
            soroban_meta=None,
        ),
    )
    pair = xdr.TransactionResultPair(xdr.Hash(envelope.hash()), result)
    trm = xdr.TransactionResultMeta(result=pair, fee_processing=fee_changes.xdr(), tx_apply_processing=meta)
    return _TxOut(envelope.to_xdr_object(), trm, applied.success)


def _tx_count(index: int) -> int:
    """Transactions in the index-th sample ledger: 2-5, with an empty ledger every 16th."""
    return 0 if index % 16 == 15 else 2 + index % 4



def _tx_set(prev_hash: bytes, envelopes: list[xdr.TransactionEnvelope]) -> xdr.GeneralizedTransactionSet:
    """A protocol-20+ transaction set: a classic phase (one discounted component) and a Soroban phase."""
    ordered = sorted(envelopes, key=lambda e: hashlib.sha256(e.to_xdr_bytes()).digest())
    components = []
    if ordered:
        txs = xdr.TxSetComponentTxsMaybeDiscountedFee(base_fee=xdr.Int64(BASE_FEE), txs=ordered)
        components.append(
            xdr.TxSetComponent(xdr.TxSetComponentType.TXSET_COMP_TXS_MAYBE_DISCOUNTED_FEE, txs_maybe_discounted_fee=txs)
        )
    phases = [xdr.TransactionPhase(0, v0_components=components), xdr.TransactionPhase(0, v0_components=[])]
    return xdr.GeneralizedTransactionSet(1, v1_tx_set=xdr.TransactionSetV1(xdr.Hash(prev_hash), phases))


def _build_ledger(
    w: World, seq: int, index: int, prev_hash: bytes, skip_list: list[bytes], validator: Keypair
) -> tuple[xdr.LedgerCloseMeta, bytes, list[_TxOut]]:
    """One LedgerCloseMeta v1; returns it, its header hash and its transactions."""
    close_time = FIRST_CLOSE_TIME + CLOSE_INTERVAL * index
    outs = [_run_tx(w, plan_next(w, seq), seq, close_time) for _ in range(_tx_count(index))]
    tx_set = _tx_set(prev_hash, [o.envelope for o in outs])
    tx_set_hash = hashlib.sha256(tx_set.to_xdr_bytes()).digest()
    result_set = xdr.TransactionResultSet([o.meta.result for o in outs])

    # The value validators agreed on, signed as core signs it: networkID || SCPVALUE || txSetHash || closeTime.
    signed = network_id(w.passphrase) + _ENVELOPE_TYPE_SCPVALUE + tx_set_hash + close_time.to_bytes(8, "big")
    sig = xdr.LedgerCloseValueSignature(xdr.NodeID(validator.xdr_public_key()), xdr.Signature(validator.sign(signed)))
    scp_value = xdr.StellarValue(
        tx_set_hash=xdr.Hash(tx_set_hash),
        close_time=xdr.TimePoint(xdr.Uint64(close_time)),
        upgrades=[],
        ext=xdr.StellarValueExt(xdr.StellarValueType.STELLAR_VALUE_SIGNED, lc_value_signature=sig),
    )
    bucket_list_hash = hashlib.sha256(b"beam_pipeline sample bucket list %d" % seq).digest()
    if (seq - 1) % 50 == 0:  # core's SKIP_1 rule, so the skip list is not constant
        skip_list[:] = [bucket_list_hash, *skip_list[:3]]
    header = xdr.LedgerHeader(
        ledger_version=xdr.Uint32(PROTOCOL_VERSION),
        previous_ledger_hash=xdr.Hash(prev_hash),
        scp_value=scp_value,
        tx_set_result_hash=xdr.Hash(hashlib.sha256(result_set.to_xdr_bytes()).digest()),
        bucket_list_hash=xdr.Hash(bucket_list_hash),
        ledger_seq=xdr.Uint32(seq),
        total_coins=xdr.Int64(TOTAL_COINS),
        fee_pool=xdr.Int64(w.fee_pool),
        inflation_seq=xdr.Uint32(0),
        id_pool=xdr.Uint64(w.id_pool),
        base_fee=xdr.Uint32(BASE_FEE),
        base_reserve=xdr.Uint32(BASE_RESERVE),
        max_tx_set_size=xdr.Uint32(100),
        skip_list=[xdr.Hash(h) for h in skip_list],
        ext=xdr.LedgerHeaderExt(0),
    )
    header_hash = hashlib.sha256(header.to_xdr_bytes()).digest()
    lcm = xdr.LedgerCloseMeta(
        1,
        v1=xdr.LedgerCloseMetaV1(
            ext=xdr.LedgerCloseMetaExt(0),
            ledger_header=xdr.LedgerHeaderHistoryEntry(
                xdr.Hash(header_hash), header, xdr.LedgerHeaderHistoryEntryExt(0)
            ),
            tx_set=tx_set,
            tx_processing=[o.meta for o in outs],
            upgrades_processing=[],
            scp_info=[],
            total_byte_size_of_live_soroban_state=xdr.Uint64(0),
            evicted_keys=[],
            unused=[],
        ),
    )
    return lcm, header_hash, outs


class SampleLedger(NamedTuple):
    """One generated ledger: its XDR plus the counts a summary (or a test) wants."""

    sequence: int
    close_time: int
    xdr: bytes  # a LedgerCloseMeta
    transactions: int
    failed_transactions: int
    operations: int


def generate_ledgers(
    ledgers: int = 64, start_ledger: int = 2, network_passphrase: str = STANDALONE_PASSPHRASE
) -> list[SampleLedger]:
    """Build the sample ledgers in sequence order, without writing anything."""
    if ledgers < 1 or start_ledger < 2:
        raise ValueError("need ledgers >= 1 and start_ledger >= 2 (ledger 1 is the genesis ledger)")
    w = World(network_passphrase)
    validator = keypair("validator")
    # The genesis ledger is not generated; its hash only needs to be fixed.
    prev_hash = hashlib.sha256(b"beam_pipeline sample ledger %d" % (start_ledger - 1)).digest()
    skip_list = [bytes(32)] * 4
    out = []
    for index in range(ledgers):
        seq = start_ledger + index
        lcm, prev_hash, txs = _build_ledger(w, seq, index, prev_hash, skip_list, validator)
        out.append(
            SampleLedger(
                sequence=seq,
                close_time=FIRST_CLOSE_TIME + CLOSE_INTERVAL * index,
                xdr=lcm.to_xdr_bytes(),
                transactions=len(txs),
                failed_transactions=sum(not t.success for t in txs),
                operations=sum(len(t.meta.result.result.result.results) for t in txs),
            )
        )
    return out


def _batch_xdr(start: int, end: int, lcms: list[bytes]) -> bytes:
    """XDR of LedgerCloseMetaBatch{start, end, lcms<>}: two uint32s, a count, then the elements."""
    return struct.pack(">III", start, end, len(lcms)) + b"".join(lcms)


def write_sample_datastore(
    out_dir: str,
    ledgers: int = 64,
    start_ledger: int = 2,
    ledgers_per_batch: int = 8,
    batches_per_partition: int = 4,
    network_passphrase: str = STANDALONE_PASSPHRASE,
) -> dict:
    """Write a galexie-layout datastore of synthetic ledgers under ``out_dir``.

    Like galexie, a batch holds the ledgers of its key's range that were exported: with the default
    start ledger 2 and 8 ledgers per batch, the first object (key ``...--0-7``) holds ledgers 2..7
    (galexie never exports ledger 1), and the last object ends at the last ledger generated.

    Returns:
        A summary: ledger range and close times (Unix seconds), object keys, ledger/tx/op counts.
    """
    if ledgers_per_batch < 1 or batches_per_partition < 1:
        raise ValueError("ledgers_per_batch and batches_per_partition must be >= 1")
    generated = generate_ledgers(ledgers, start_ledger, network_passphrase)
    os.makedirs(out_dir, exist_ok=True)
    config = {
        "networkPassphrase": network_passphrase,
        "version": "1.0",
        "compression": "zstd",
        "ledgersPerBatch": ledgers_per_batch,
        "batchesPerPartition": batches_per_partition,
    }
    with open(os.path.join(out_dir, ".config.json"), "w", encoding="utf-8") as f:
        f.write(json.dumps(config, indent=2) + "\n")

    compressor = zstandard.ZstdCompressor(level=3)
    keys: list[str] = []
    i = 0
    while i < len(generated):
        start = generated[i].sequence
        batch = [g for g in generated[i:] if g.sequence // ledgers_per_batch == start // ledgers_per_batch]
        end = batch[-1].sequence
        key = object_key(start, ledgers_per_batch, batches_per_partition)
        path = os.path.join(out_dir, *key.split("/"))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(compressor.compress(_batch_xdr(start, end, [g.xdr for g in batch])))
        keys.append(key)
        i += len(batch)
    return {
        "out_dir": out_dir,
        "network_passphrase": network_passphrase,
        "first_ledger": generated[0].sequence,
        "last_ledger": generated[-1].sequence,
        "ledgers": len(generated),
        "first_close_time": generated[0].close_time,
        "last_close_time": generated[-1].close_time,
        "objects": len(keys),
        "keys": keys,
        "transactions": sum(g.transactions for g in generated),
        "failed_transactions": sum(g.failed_transactions for g in generated),
        "operations": sum(g.operations for g in generated),
    }


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``python -m beam_pipeline sample``."""
    parser.add_argument("--out", required=True, help="directory to write the datastore into (created if missing)")
    parser.add_argument("--ledgers", type=int, default=64, help="number of ledgers to generate (default: 64)")
    parser.add_argument("--start-ledger", type=int, default=2, help="first ledger sequence (default: 2)")
    parser.add_argument("--ledgers-per-batch", type=int, default=8, help="ledgers per object (default: 8)")
    parser.add_argument("--batches-per-partition", type=int, default=4, help="objects per partition (default: 4)")
    parser.add_argument("--network-passphrase", default=STANDALONE_PASSPHRASE, help="network the txs are signed for")


def run(args: argparse.Namespace) -> dict:
    """Write the sample datastore and print a one-paragraph summary."""
    summary = write_sample_datastore(
        args.out,
        ledgers=args.ledgers,
        start_ledger=args.start_ledger,
        ledgers_per_batch=args.ledgers_per_batch,
        batches_per_partition=args.batches_per_partition,
        network_passphrase=args.network_passphrase,
    )
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    first = datetime.fromtimestamp(summary["first_close_time"], tz=UTC).strftime(fmt)
    last = datetime.fromtimestamp(summary["last_close_time"], tz=UTC).strftime(fmt)
    print(
        f"wrote {summary['objects']} objects to {summary['out_dir']}: ledgers "
        f"{summary['first_ledger']}..{summary['last_ledger']} ({first} .. {last}), "
        f"{summary['transactions']} transactions ({summary['failed_transactions']} failed), "
        f"{summary['operations']} operations"
    )
    return summary
