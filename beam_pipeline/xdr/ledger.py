"""One decoded ledger, with the views every table needs computed once.

`LedgerView` hides the differences between LedgerCloseMeta v0, v1 and v2 (classic transaction
sets vs generalized ones with phases and parallel stages; TransactionResultMeta vs
TransactionResultMetaV1) and pairs each applied transaction with its envelope, the way
stellar-etl's ingest reader does: by the envelope's network hash.

Objects here are stellar_sdk XDR objects: they never leave the DoFn that decoded them.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import cached_property

from stellar_sdk import xdr
from xdrlib3 import Unpacker

from beam_pipeline.xdr import fast
from beam_pipeline.xdr.fast import xdr_bytes

_ENVELOPE_TYPE_TX = (2).to_bytes(4, "big")
_ENVELOPE_TYPE_TX_FEE_BUMP = (5).to_bytes(4, "big")
_KEY_TYPE_ED25519 = (0).to_bytes(4, "big")

# The fast path (xdr/fast.py) is the default; BEAM_PIPELINE_DECODE=sdk selects plain stellar_sdk
# decoding, which the benchmark and tests/test_fast_decode.py compare it against.
FAST_DECODE = os.environ.get("BEAM_PIPELINE_DECODE", "fast") != "sdk"


class LedgerDecodeError(ValueError):
    """A ledger's meta is not what the protocol says it must be."""


# --- the LedgerCloseMeta version switch, once: every other module asks here ----------------------


def lcm_body(lcm: xdr.LedgerCloseMeta) -> xdr.LedgerCloseMetaV0 | xdr.LedgerCloseMetaV1 | xdr.LedgerCloseMetaV2:
    """The body of a LedgerCloseMeta of any supported version (v0, v1, v2)."""
    if lcm.v == 0:
        return lcm.v0
    if lcm.v == 1:
        return lcm.v1
    if lcm.v == 2:
        return lcm.v2
    raise LedgerDecodeError(f"unsupported LedgerCloseMeta version {lcm.v}")


def lcm_sequence(lcm: xdr.LedgerCloseMeta) -> int:
    return lcm_body(lcm).ledger_header.header.ledger_seq.uint32


def unpack_header_entry(u: Unpacker) -> xdr.LedgerHeaderHistoryEntry:
    """Reads a LedgerCloseMeta's version and header entry from `u`, leaving the (large) rest unread.

    Enough to learn a ledger's sequence and close time without decoding its transactions: v0
    starts with its header, v1 and v2 with an extension and then the header.
    """
    version = u.unpack_int()
    if version in (1, 2):
        xdr.LedgerCloseMetaExt.unpack(u)
    elif version != 0:
        raise LedgerDecodeError(f"unsupported LedgerCloseMeta version {version}")
    return xdr.LedgerHeaderHistoryEntry.unpack(u)


def header_of(lcm: bytes) -> xdr.LedgerHeaderHistoryEntry:
    """The header entry at the front of LedgerCloseMeta bytes (see `unpack_header_entry`)."""
    return unpack_header_entry(Unpacker(lcm))


def network_id(passphrase: str) -> bytes:
    return hashlib.sha256(passphrase.encode()).digest()


def transaction_hash(envelope: xdr.TransactionEnvelope, net_id: bytes) -> bytes:
    """The network hash of an envelope (what TransactionResultPair.transactionHash holds).

    A v0 envelope is hashed as the equivalent v1 Transaction: its XDR is the v0 body with the
    ed25519 muxed-account discriminant prepended, because an optional TimeBounds and a
    PRECOND_TIME precondition encode identically. Envelopes from the fast decoder hash their
    original bytes; re-encoding every transaction used to cost as much as a table.
    """
    env_type = envelope.type
    if env_type == xdr.EnvelopeType.ENVELOPE_TYPE_TX_V0:
        body = _KEY_TYPE_ED25519 + xdr_bytes(envelope.v0.tx)
        payload = net_id + _ENVELOPE_TYPE_TX + body
    elif env_type == xdr.EnvelopeType.ENVELOPE_TYPE_TX:
        payload = net_id + _ENVELOPE_TYPE_TX + xdr_bytes(envelope.v1.tx)
    elif env_type == xdr.EnvelopeType.ENVELOPE_TYPE_TX_FEE_BUMP:
        payload = net_id + _ENVELOPE_TYPE_TX_FEE_BUMP + xdr_bytes(envelope.fee_bump.tx)
    else:
        raise LedgerDecodeError(f"unknown envelope type {env_type}")
    return hashlib.sha256(payload).digest()


@dataclass
class TxView:
    """One applied transaction: its position, envelope, result and metas."""

    ledger: LedgerView = field(repr=False)
    index: int  # 1-based application order, as in TOIDs
    envelope: xdr.TransactionEnvelope
    result_pair: xdr.TransactionResultPair
    fee_changes: xdr.LedgerEntryChanges
    meta: xdr.TransactionMeta
    post_apply_fee_changes: xdr.LedgerEntryChanges | None = None

    @property
    def hash(self) -> bytes:
        return self.result_pair.transaction_hash.hash

    @property
    def hash_hex(self) -> str:
        return self.hash.hex()

    @property
    def result(self) -> xdr.TransactionResult:
        return self.result_pair.result

    @property
    def successful(self) -> bool:
        code = self.result.result.code
        return code in (
            xdr.TransactionResultCode.txSUCCESS,
            xdr.TransactionResultCode.txFEE_BUMP_INNER_SUCCESS,
        )

    @property
    def is_fee_bump(self) -> bool:
        return self.envelope.type == xdr.EnvelopeType.ENVELOPE_TYPE_TX_FEE_BUMP

    @property
    def inner_envelope(self) -> xdr.TransactionV0Envelope | xdr.TransactionV1Envelope:
        """The envelope that carries the operations (the inner one of a fee bump)."""
        env = self.envelope
        if env.type == xdr.EnvelopeType.ENVELOPE_TYPE_TX_V0:
            return env.v0
        if env.type == xdr.EnvelopeType.ENVELOPE_TYPE_TX:
            return env.v1
        return env.fee_bump.tx.inner_tx.v1

    @property
    def operations(self) -> list[xdr.Operation]:
        return self.inner_envelope.tx.operations

    @property
    def operation_results(self) -> list[xdr.OperationResult] | None:
        """Per-operation results, or None when the transaction failed before applying them."""
        res = self.result.result
        if res.code in (
            xdr.TransactionResultCode.txFEE_BUMP_INNER_SUCCESS,
            xdr.TransactionResultCode.txFEE_BUMP_INNER_FAILED,
        ):
            res = res.inner_result_pair.result.result
        return res.results

    @property
    def operation_metas(self) -> list[xdr.OperationMeta] | list[xdr.OperationMetaV2]:
        meta = self.meta
        if meta.v == 0:
            return meta.operations or []
        inner = {1: meta.v1, 2: meta.v2, 3: meta.v3, 4: meta.v4}[meta.v]
        return inner.operations or []


_ENTRY_TYPE = xdr.LedgerEntryType


def ledger_key(entry: xdr.LedgerEntry) -> xdr.LedgerKey:
    """The LedgerKey that identifies `entry` (what stellar-core indexes it by, and sorts changes by)."""
    data = entry.data
    t = data.type
    if t == _ENTRY_TYPE.ACCOUNT:
        return xdr.LedgerKey(t, account=xdr.LedgerKeyAccount(data.account.account_id))
    if t == _ENTRY_TYPE.TRUSTLINE:
        tl = data.trust_line
        return xdr.LedgerKey(t, trust_line=xdr.LedgerKeyTrustLine(tl.account_id, tl.asset))
    if t == _ENTRY_TYPE.OFFER:
        o = data.offer
        return xdr.LedgerKey(t, offer=xdr.LedgerKeyOffer(o.seller_id, o.offer_id))
    if t == _ENTRY_TYPE.DATA:
        d = data.data
        return xdr.LedgerKey(t, data=xdr.LedgerKeyData(d.account_id, d.data_name))
    if t == _ENTRY_TYPE.CLAIMABLE_BALANCE:
        cb = data.claimable_balance
        return xdr.LedgerKey(t, claimable_balance=xdr.LedgerKeyClaimableBalance(cb.balance_id))
    if t == _ENTRY_TYPE.LIQUIDITY_POOL:
        lp = data.liquidity_pool
        return xdr.LedgerKey(t, liquidity_pool=xdr.LedgerKeyLiquidityPool(lp.liquidity_pool_id))
    if t == _ENTRY_TYPE.CONTRACT_DATA:
        cd = data.contract_data
        return xdr.LedgerKey(t, contract_data=xdr.LedgerKeyContractData(cd.contract, cd.key, cd.durability))
    if t == _ENTRY_TYPE.CONTRACT_CODE:
        return xdr.LedgerKey(t, contract_code=xdr.LedgerKeyContractCode(data.contract_code.hash))
    if t == _ENTRY_TYPE.CONFIG_SETTING:
        cs = data.config_setting
        return xdr.LedgerKey(t, config_setting=xdr.LedgerKeyConfigSetting(cs.config_setting_id))
    if t == _ENTRY_TYPE.TTL:
        return xdr.LedgerKey(t, ttl=xdr.LedgerKeyTtl(data.ttl.key_hash))
    raise LedgerDecodeError(f"unknown ledger entry type {t}")


def tx_source_account(tx: TxView) -> xdr.MuxedAccount:
    """The source account of a transaction's inner envelope (a v0 envelope only has an ed25519 key)."""
    inner = tx.inner_envelope
    if isinstance(inner, xdr.TransactionV0Envelope):
        return xdr.MuxedAccount(type=xdr.CryptoKeyType.KEY_TYPE_ED25519, ed25519=inner.tx.source_account_ed25519)
    return inner.tx.source_account


class LedgerView:
    """A decoded LedgerCloseMeta plus the per-ledger facts every table shares."""

    def __init__(self, lcm: xdr.LedgerCloseMeta, network_passphrase: str, source: str = ""):
        self.lcm = lcm
        self.network_passphrase = network_passphrase
        self.source = source  # where the ledger came from: object key or RPC url
        self._body = lcm_body(lcm)

    def release(self) -> None:
        """Drops what the view computed, for when every table is done with the ledger.

        Each TxView points back at its LedgerView, so a view whose `transactions` were computed is
        a reference cycle: without this, a decoded ledger (hundreds of thousands of objects) would
        wait for the cyclic garbage collector, which would also traverse it again and again.
        """
        for name in _CACHED_PROPERTIES:
            self.__dict__.pop(name, None)

    @property
    def version(self) -> int:
        return self.lcm.v

    @property
    def header_entry(self) -> xdr.LedgerHeaderHistoryEntry:
        return self._body.ledger_header

    @property
    def header(self) -> xdr.LedgerHeader:
        return self._body.ledger_header.header

    @property
    def sequence(self) -> int:
        return self.header.ledger_seq.uint32

    @property
    def hash_hex(self) -> str:
        return self.header_entry.hash.hash.hex()

    @property
    def protocol_version(self) -> int:
        return self.header.ledger_version.uint32

    @property
    def close_time(self) -> int:
        """Close time in Unix seconds, as the validators agreed it."""
        return self.header.scp_value.close_time.time_point.uint64

    @cached_property
    def closed_at(self) -> datetime:
        return datetime.fromtimestamp(self.close_time, tz=timezone.utc)

    @property
    def body(self) -> xdr.LedgerCloseMetaV0 | xdr.LedgerCloseMetaV1 | xdr.LedgerCloseMetaV2:
        return self._body

    @property
    def upgrades(self) -> list[xdr.UpgradeEntryMeta]:
        return self._body.upgrades_processing

    @property
    def evicted_keys(self) -> list[xdr.LedgerKey]:
        if self.lcm.v == 0:
            return []
        return self._body.evicted_keys or []

    @cached_property
    def envelopes(self) -> list[xdr.TransactionEnvelope]:
        """Envelopes in transaction-set order (not application order)."""
        if self.lcm.v == 0:
            return list(self._body.tx_set.txs)
        tx_set = self._body.tx_set
        if tx_set.v != 1:
            raise LedgerDecodeError(f"ledger {self.sequence}: unknown GeneralizedTransactionSet v{tx_set.v}")
        out: list[xdr.TransactionEnvelope] = []
        for phase in tx_set.v1_tx_set.phases:
            if phase.v == 0:
                for component in phase.v0_components:
                    out.extend(component.txs_maybe_discounted_fee.txs)
            elif phase.v == 1:
                for stage in phase.parallel_txs_component.execution_stages:
                    for cluster in stage.parallel_tx_execution_stage:
                        out.extend(cluster.dependent_tx_cluster)
            else:
                raise LedgerDecodeError(f"ledger {self.sequence}: unknown transaction phase v{phase.v}")
        return out

    @cached_property
    def transactions(self) -> list[TxView]:
        """Applied transactions in application order, each paired with its envelope by hash."""
        net_id = network_id(self.network_passphrase)
        by_hash = {transaction_hash(env, net_id): env for env in self.envelopes}
        processing = self._body.tx_processing
        if len(by_hash) != len(processing):
            raise LedgerDecodeError(
                f"ledger {self.sequence}: {len(processing)} results but {len(by_hash)} distinct envelopes"
            )
        out = []
        for i, trm in enumerate(processing, start=1):
            tx_hash = trm.result.transaction_hash.hash
            envelope = by_hash.get(tx_hash)
            if envelope is None:
                raise LedgerDecodeError(
                    f"ledger {self.sequence}: no envelope hashes to result {tx_hash.hex()} "
                    f"under network passphrase {self.network_passphrase!r}"
                )
            out.append(
                TxView(
                    ledger=self,
                    index=i,
                    envelope=envelope,
                    result_pair=trm.result,
                    fee_changes=trm.fee_processing,
                    meta=trm.tx_apply_processing,
                    post_apply_fee_changes=getattr(trm, "post_tx_apply_fee_processing", None),
                )
            )
        return out


_CACHED_PROPERTIES = tuple(n for n, a in vars(LedgerView).items() if isinstance(a, cached_property))


def decode_batch(data: bytes, fast_path: bool | None = None) -> xdr.LedgerCloseMetaBatch:
    """Decodes a LedgerCloseMetaBatch; `fast_path` (default `FAST_DECODE`) keeps raw slices."""
    if FAST_DECODE if fast_path is None else fast_path:
        return fast.decode_batch(data)
    return xdr.LedgerCloseMetaBatch.from_xdr_bytes(data)


def decode_ledger(data: bytes, fast_path: bool | None = None) -> xdr.LedgerCloseMeta:
    if FAST_DECODE if fast_path is None else fast_path:
        return fast.decode_ledger(data)
    return xdr.LedgerCloseMeta.from_xdr_bytes(data)
