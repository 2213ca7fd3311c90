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
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import NamedTuple

import zstandard
from stellar_sdk import Account, Asset, Keypair, Price, TransactionBuilder, xdr

from beam_pipeline.xdr.ledger import network_id

STANDALONE_PASSPHRASE = "Standalone Network ; February 2017"
PROTOCOL_VERSION = 22
FIRST_CLOSE_TIME = 1735775700  # 2025-01-01T23:55:00Z: the default 64 ledgers cross an hour and a day
CLOSE_INTERVAL = 5
BASE_FEE = 100
BASE_RESERVE = 5_000_000
TOTAL_COINS = 100_000_000_000 * 10**7
STARTING_BALANCE = 10_000 * 10**7
INT64_MAX = 2**63 - 1
_ENVELOPE_TYPE_SCPVALUE = (4).to_bytes(4, "big")
_AUTHORIZED_FLAG = 1
_XLM = Asset.native()

_T = xdr.LedgerEntryType
_C = xdr.LedgerEntryChangeType


def _keypair(label: str) -> Keypair:
    """A fixed key per role, so the same arguments always give the same accounts and signatures."""
    return Keypair.from_raw_ed25519_seed(hashlib.sha256(f"beam_pipeline sample {label}".encode()).digest())


def _amount(stroops: int) -> str:
    """Stroops as the decimal string stellar_sdk's builder wants (exact, no float rounding)."""
    return f"{stroops // 10**7}.{stroops % 10**7:07d}"


def object_key(seq: int, ledgers_per_batch: int, batches_per_partition: int, ext: str = "zst") -> str:
    """The SEP-54 object key of the batch holding ledger ``seq`` (see ledgers/README.md)."""
    key = ""
    if batches_per_partition > 1:
        size = ledgers_per_batch * batches_per_partition
        start = (seq // size) * size
        key = f"{0xFFFFFFFF - start:08X}--{start}-{start + size - 1}/"
    first = (seq // ledgers_per_batch) * ledgers_per_batch
    last = first + ledgers_per_batch - 1
    key += f"{0xFFFFFFFF - first:08X}--{first}"
    if first != last:
        key += f"-{last}"
    return key + ".xdr." + ext


# ---------------------------------------------------------------------------------------------
# The world model: accounts, one credit asset's trustlines, and offers.


@dataclass
class _Account:
    keypair: Keypair
    balance: int
    seq: int
    created: int  # ledger that created it; an account only acts from the next ledger on
    sub_entries: int = 0
    last_modified: int = 0

    @property
    def address(self) -> str:
        return self.keypair.public_key

    def entry(self) -> xdr.LedgerEntry:
        acct = xdr.AccountEntry(
            account_id=self.keypair.xdr_account_id(),
            balance=xdr.Int64(self.balance),
            seq_num=xdr.SequenceNumber(xdr.Int64(self.seq)),
            num_sub_entries=xdr.Uint32(self.sub_entries),
            inflation_dest=None,
            flags=xdr.Uint32(0),
            home_domain=xdr.String32(b""),
            thresholds=xdr.Thresholds(b"\x01\x00\x00\x00"),
            signers=[],
            ext=xdr.AccountEntryExt(0),
        )
        return _ledger_entry(self.last_modified, xdr.LedgerEntryData(_T.ACCOUNT, account=acct))


@dataclass
class _Trustline:
    owner: _Account
    asset: Asset
    created: int
    balance: int = 0
    limit: int = INT64_MAX
    last_modified: int = 0

    def entry(self) -> xdr.LedgerEntry:
        base = self.asset.to_xdr_object()
        line = xdr.TrustLineEntry(
            account_id=self.owner.keypair.xdr_account_id(),
            asset=xdr.TrustLineAsset(base.type, alpha_num4=base.alpha_num4),
            balance=xdr.Int64(self.balance),
            limit=xdr.Int64(self.limit),
            flags=xdr.Uint32(_AUTHORIZED_FLAG),
            ext=xdr.TrustLineEntryExt(0),
        )
        return _ledger_entry(self.last_modified, xdr.LedgerEntryData(_T.TRUSTLINE, trust_line=line))


@dataclass
class _Offer:
    offer_id: int
    seller: _Account
    selling: Asset
    buying: Asset
    amount: int
    price: tuple[int, int]  # buying units per selling unit, as n/d
    created: int
    last_modified: int = 0

    def xdr_offer(self) -> xdr.OfferEntry:
        return xdr.OfferEntry(
            seller_id=self.seller.keypair.xdr_account_id(),
            offer_id=xdr.Int64(self.offer_id),
            selling=self.selling.to_xdr_object(),
            buying=self.buying.to_xdr_object(),
            amount=xdr.Int64(self.amount),
            price=xdr.Price(xdr.Int32(self.price[0]), xdr.Int32(self.price[1])),
            flags=xdr.Uint32(0),
            ext=xdr.OfferEntryExt(0),
        )

    def entry(self) -> xdr.LedgerEntry:
        return _ledger_entry(self.last_modified, xdr.LedgerEntryData(_T.OFFER, offer=self.xdr_offer()))


def _ledger_entry(last_modified: int, data: xdr.LedgerEntryData) -> xdr.LedgerEntry:
    return xdr.LedgerEntry(xdr.Uint32(last_modified), data, xdr.LedgerEntryExt(0))


class _Changes(list):
    """LedgerEntryChange list builder that also stamps ``last_modified`` the way core does."""

    def __init__(self, seq: int):
        super().__init__()
        self.seq = seq

    def touch(self, obj: _Account | _Trustline | _Offer, mutate: Callable[[], None]) -> None:
        self.append(xdr.LedgerEntryChange(_C.LEDGER_ENTRY_STATE, state=obj.entry()))
        mutate()
        obj.last_modified = self.seq
        self.append(xdr.LedgerEntryChange(_C.LEDGER_ENTRY_UPDATED, updated=obj.entry()))

    def create(self, obj: _Account | _Trustline | _Offer) -> None:
        obj.last_modified = self.seq
        self.append(xdr.LedgerEntryChange(_C.LEDGER_ENTRY_CREATED, created=obj.entry()))

    def remove_offer(self, offer: _Offer) -> None:
        self.append(xdr.LedgerEntryChange(_C.LEDGER_ENTRY_STATE, state=offer.entry()))
        key = xdr.LedgerKeyOffer(offer.seller.keypair.xdr_account_id(), xdr.Int64(offer.offer_id))
        self.append(xdr.LedgerEntryChange(_C.LEDGER_ENTRY_REMOVED, removed=xdr.LedgerKey(_T.OFFER, offer=key)))

    def xdr(self) -> xdr.LedgerEntryChanges:
        return xdr.LedgerEntryChanges(list(self))


def _op_result(op_type: xdr.OperationType, **result: object) -> xdr.OperationResult:
    tr = xdr.OperationResultTr(op_type, **result)
    return xdr.OperationResult(xdr.OperationResultCode.opINNER, tr=tr)


def _offer_success(effect: xdr.ManageOfferEffect, offer: _Offer | None, claimed: list) -> xdr.ManageOfferSuccessResult:
    made = xdr.ManageOfferSuccessResultOffer(effect, offer=offer.xdr_offer() if offer else None)
    return xdr.ManageOfferSuccessResult(offers_claimed=claimed, offer=made)


@dataclass
class _Applied:
    """What applying one transaction's operations produced."""

    results: list[xdr.OperationResult]
    op_changes: list[_Changes]
    success: bool = True


# A planned transaction: its source, a function adding its operations to a builder, and a
# function that applies them to the world (mutating it only on success) for a given ledger.
_Plan = tuple[_Account, Callable[[TransactionBuilder], None], Callable[[int], _Applied]]


@dataclass
class _World:
    """Ledger state plus the deterministic choices of which accounts act next."""

    passphrase: str
    accounts: list[_Account] = field(default_factory=list)
    trustlines: dict[str, _Trustline] = field(default_factory=dict)
    offers: list[_Offer] = field(default_factory=list)
    id_pool: int = 0
    fee_pool: int = 0
    turn: int = 0  # round-robin position for pick()
    step: int = 0  # position in _SCHEDULE
    created_users: int = 0

    def __post_init__(self) -> None:
        # Like a real standalone network, the root account's key is seeded by the network id.
        self.root = _Account(Keypair.from_raw_ed25519_seed(network_id(self.passphrase)), TOTAL_COINS, 0, created=1)
        self.issuer: _Account | None = None
        self.asset: Asset | None = None

    def pick(self, candidates: list) -> object | None:
        """Round-robin over candidates so every account gets its turn, deterministically."""
        if not candidates:
            return None
        self.turn += 1
        return candidates[self.turn % len(candidates)]

    def users(self, seq: int) -> list[_Account]:
        return [a for a in self.accounts if a.created < seq]

    def trusted(self, seq: int) -> list[_Trustline]:
        return [t for t in self.trustlines.values() if t.created < seq]

    def untrusted(self, seq: int) -> list[_Account]:
        return [a for a in self.users(seq) if a.address not in self.trustlines]


# ---------------------------------------------------------------------------------------------
# Actions. Each returns a _Plan, or None when the world does not allow it yet.


def _act_create_account(w: _World, seq: int) -> _Plan:
    label = "issuer" if w.issuer is None else f"user-{w.created_users}"
    kp = _keypair(label)
    dest = _Account(kp, STARTING_BALANCE, seq << 32, created=seq)
    root = w.root

    def apply(seq: int) -> _Applied:
        ch = _Changes(seq)
        ch.create(dest)
        ch.touch(root, lambda: setattr(root, "balance", root.balance - STARTING_BALANCE))
        if w.issuer is None:
            w.issuer, w.asset = dest, Asset("USD", dest.address)
        else:
            w.accounts.append(dest)
            w.created_users += 1
        result = xdr.CreateAccountResult(xdr.CreateAccountResultCode.CREATE_ACCOUNT_SUCCESS)
        return _Applied([_op_result(xdr.OperationType.CREATE_ACCOUNT, create_account_result=result)], [ch])

    return root, lambda b: b.append_create_account_op(kp.public_key, _amount(STARTING_BALANCE)), apply


def _act_change_trust(w: _World, seq: int) -> _Plan | None:
    src = w.pick(w.untrusted(seq))
    if src is None:
        return None
    asset = w.asset

    def apply(seq: int) -> _Applied:
        ch = _Changes(seq)
        line = _Trustline(src, asset, created=seq)
        ch.create(line)
        w.trustlines[src.address] = line
        ch.touch(src, lambda: setattr(src, "sub_entries", src.sub_entries + 1))
        result = xdr.ChangeTrustResult(xdr.ChangeTrustResultCode.CHANGE_TRUST_SUCCESS)
        return _Applied([_op_result(xdr.OperationType.CHANGE_TRUST, change_trust_result=result)], [ch])

    return src, lambda b: b.append_change_trust_op(asset), apply


def _payment(w: _World, src: _Account, dest: _Account, asset: Asset, amount: int, ch: _Changes) -> xdr.OperationResult:
    """Apply one payment (mutating only on success) and return its result."""
    code = xdr.PaymentResultCode

    def result(c: xdr.PaymentResultCode) -> xdr.OperationResult:
        return _op_result(xdr.OperationType.PAYMENT, payment_result=xdr.PaymentResult(c))

    if asset.is_native():
        if src.balance - amount < (2 + src.sub_entries) * BASE_RESERVE:
            return result(code.PAYMENT_UNDERFUNDED)
        ch.touch(src, lambda: setattr(src, "balance", src.balance - amount))
        ch.touch(dest, lambda: setattr(dest, "balance", dest.balance + amount))
    else:
        src_line, dest_line = w.trustlines.get(src.address), w.trustlines.get(dest.address)
        if dest is not w.issuer and dest_line is None:
            return result(code.PAYMENT_NO_TRUST)
        if src is not w.issuer and (src_line is None or src_line.balance < amount):
            return result(code.PAYMENT_UNDERFUNDED)
        if src_line is not None and src is not w.issuer:
            ch.touch(src_line, lambda: setattr(src_line, "balance", src_line.balance - amount))
        if dest_line is not None and dest is not w.issuer:
            ch.touch(dest_line, lambda: setattr(dest_line, "balance", dest_line.balance + amount))
    return result(code.PAYMENT_SUCCESS)


def _payments_plan(w: _World, src: _Account, legs: list[tuple[_Account, Asset, int]]) -> _Plan:
    """A transaction of one or more payments; it fails as a whole if any payment fails."""

    def add_ops(b: TransactionBuilder) -> None:
        for dest, asset, amount in legs:
            b.append_payment_op(dest.address, asset, _amount(amount))

    def apply(seq: int) -> _Applied:
        snapshot = _snapshot(w)
        results, changes = [], []
        for dest, asset, amount in legs:
            ch = _Changes(seq)
            results.append(_payment(w, src, dest, asset, amount, ch))
            changes.append(ch)
        ok = all(r.tr.payment_result.code == xdr.PaymentResultCode.PAYMENT_SUCCESS for r in results)
        if not ok:
            _restore(w, snapshot)  # a failed transaction leaves no trace but its fee and sequence bump
        return _Applied(results, changes, ok)

    return src, add_ops, apply


def _snapshot(w: _World) -> list[tuple[object, dict]]:
    objs = [*w.accounts, *w.trustlines.values(), w.root] + ([w.issuer] if w.issuer else [])
    return [(o, dict(vars(o))) for o in objs]


def _restore(w: _World, snapshot: list[tuple[object, dict]]) -> None:
    for obj, saved in snapshot:
        vars(obj).update(saved)


def _act_pay_credit(w: _World, seq: int) -> _Plan | None:
    line = w.pick(w.trusted(seq))
    return None if line is None else _payments_plan(w, w.issuer, [(line.owner, w.asset, 250 * 10**7)])


def _neighbours(w: _World, seq: int, n: int) -> tuple[_Account, list[_Account]] | None:
    """A source user and the n users after it (round-robin), or None while there are too few users."""
    users = w.users(seq)
    if len(users) < n + 1:
        return None
    src = w.pick(users)
    i = users.index(src)
    return src, [users[(i + k) % len(users)] for k in range(1, n + 1)]


def _act_pay_native(w: _World, seq: int) -> _Plan | None:
    found = _neighbours(w, seq, 1)
    return found and _payments_plan(w, found[0], [(found[1][0], _XLM, 125 * 10**6)])


def _act_multi_pay(w: _World, seq: int) -> _Plan | None:
    found = _neighbours(w, seq, 2)
    return found and _payments_plan(w, found[0], [(d, _XLM, (3 + i) * 10**7) for i, d in enumerate(found[1])])


def _act_fail_underfunded(w: _World, seq: int) -> _Plan | None:
    found = _neighbours(w, seq, 1)
    return found and _payments_plan(w, found[0], [(found[1][0], _XLM, found[0].balance + 1_000 * 10**7)])


def _act_fail_no_trust(w: _World, seq: int) -> _Plan | None:
    """Two payments: the first would succeed, the second hits a missing trustline."""
    lines, bare = w.trusted(seq), w.untrusted(seq)
    line = w.pick([t for t in lines if t.balance >= 5 * 10**7])
    if line is None or not bare:
        return None
    src = line.owner
    return _payments_plan(w, src, [(bare[0], _XLM, 10**7), (bare[-1], w.asset, 5 * 10**7)])


def _offer_plan(
    w: _World, src: _Account, sell: bool, selling: Asset, buying: Asset, amount: int, price: tuple[int, int]
) -> _Plan:
    """A manage_sell_offer or manage_buy_offer that rests on the book, or fails for lack of funds.

    ``amount`` and ``price`` are the operation's own (for a buy offer: units bought, and selling
    units per bought unit); the stored OfferEntry is always expressed as a sell offer.
    """
    op_type = xdr.OperationType.MANAGE_SELL_OFFER if sell else xdr.OperationType.MANAGE_BUY_OFFER
    codes = xdr.ManageSellOfferResultCode if sell else xdr.ManageBuyOfferResultCode
    prefix = "MANAGE_SELL_OFFER_" if sell else "MANAGE_BUY_OFFER_"
    stored_amount = amount if sell else amount * price[0] // price[1]
    stored_price = price if sell else (price[1], price[0])

    def add_ops(b: TransactionBuilder) -> None:
        add = b.append_manage_sell_offer_op if sell else b.append_manage_buy_offer_op
        add(selling, buying, _amount(amount), Price(*price))

    def wrap(code: xdr.ManageSellOfferResultCode, success: xdr.ManageOfferSuccessResult | None = None) -> dict:
        cls = xdr.ManageSellOfferResult if sell else xdr.ManageBuyOfferResult
        key = "manage_sell_offer_result" if sell else "manage_buy_offer_result"
        return {key: cls(code, success=success)}

    def apply(seq: int) -> _Applied:
        line = w.trustlines.get(src.address)
        held = src.balance - (3 + src.sub_entries) * BASE_RESERVE if selling.is_native() else line.balance
        if held < stored_amount:
            return _Applied(
                [_op_result(op_type, **wrap(getattr(codes, prefix + "UNDERFUNDED")))], [_Changes(seq)], False
            )
        ch = _Changes(seq)
        w.id_pool += 1
        offer = _Offer(w.id_pool, src, selling, buying, stored_amount, stored_price, created=seq)
        ch.create(offer)
        w.offers.append(offer)
        ch.touch(src, lambda: setattr(src, "sub_entries", src.sub_entries + 1))
        success = _offer_success(xdr.ManageOfferEffect.MANAGE_OFFER_CREATED, offer, [])
        return _Applied([_op_result(op_type, **wrap(getattr(codes, prefix + "SUCCESS"), success))], [ch])

    return src, add_ops, apply


def _act_sell_offer(w: _World, seq: int) -> _Plan | None:
    line = w.pick([t for t in w.trusted(seq) if t.balance >= 50 * 10**7])
    return None if line is None else _offer_plan(w, line.owner, True, w.asset, _XLM, 50 * 10**7, (2, 1))


def _act_buy_offer(w: _World, seq: int) -> _Plan | None:
    # Bids at 1 XLM per USD never cross the asks at 2, so the offer rests on the book.
    line = w.pick(w.trusted(seq))
    return None if line is None else _offer_plan(w, line.owner, False, _XLM, w.asset, 20 * 10**7, (1, 1))


def _act_fail_sell_underfunded(w: _World, seq: int) -> _Plan | None:
    line = w.pick(w.trusted(seq))
    if line is None:
        return None
    return _offer_plan(w, line.owner, True, w.asset, _XLM, line.balance + 10**9, (3, 1))


def _act_cross_offer(w: _World, seq: int) -> _Plan | None:
    """A buy offer that takes the oldest resting USD ask in full: one trade, the ask is deleted."""
    asks = [
        o
        for o in w.offers
        if o.created < seq and not o.selling.is_native() and w.trustlines[o.seller.address].balance >= o.amount
    ]
    if not asks:
        return None
    ask = asks[0]
    buyer_line = w.pick([t for t in w.trusted(seq) if t.owner is not ask.seller])
    if buyer_line is None:
        return None
    buyer, seller = buyer_line.owner, ask.seller
    seller_line = w.trustlines[seller.address]
    bought, paid = ask.amount, ask.amount * ask.price[0] // ask.price[1]

    def add_ops(b: TransactionBuilder) -> None:
        b.append_manage_buy_offer_op(_XLM, w.asset, _amount(bought), Price(*ask.price))

    def apply(seq: int) -> _Applied:
        ch = _Changes(seq)
        ch.remove_offer(ask)
        w.offers.remove(ask)

        def pay_seller() -> None:
            seller.balance += paid
            seller.sub_entries -= 1

        ch.touch(seller, pay_seller)
        ch.touch(seller_line, lambda: setattr(seller_line, "balance", seller_line.balance - bought))
        ch.touch(buyer, lambda: setattr(buyer, "balance", buyer.balance - paid))
        ch.touch(buyer_line, lambda: setattr(buyer_line, "balance", buyer_line.balance + bought))
        atom = xdr.ClaimOfferAtom(
            seller_id=seller.keypair.xdr_account_id(),
            offer_id=xdr.Int64(ask.offer_id),
            asset_sold=w.asset.to_xdr_object(),
            amount_sold=xdr.Int64(bought),
            asset_bought=_XLM.to_xdr_object(),
            amount_bought=xdr.Int64(paid),
        )
        claimed = [xdr.ClaimAtom(xdr.ClaimAtomType.CLAIM_ATOM_TYPE_ORDER_BOOK, order_book=atom)]
        success = _offer_success(xdr.ManageOfferEffect.MANAGE_OFFER_DELETED, None, claimed)
        result = xdr.ManageBuyOfferResult(xdr.ManageBuyOfferResultCode.MANAGE_BUY_OFFER_SUCCESS, success=success)
        return _Applied([_op_result(xdr.OperationType.MANAGE_BUY_OFFER, manage_buy_offer_result=result)], [ch])

    return buyer, add_ops, apply


# The order in which actions take turns; unavailable ones are skipped, create_account always works.
_SCHEDULE: list[Callable[[_World, int], _Plan | None]] = [
    _act_create_account,
    _act_create_account,
    _act_change_trust,
    _act_pay_credit,
    _act_pay_native,
    _act_sell_offer,
    _act_buy_offer,
    _act_fail_underfunded,
    _act_change_trust,
    _act_pay_credit,
    _act_cross_offer,
    _act_multi_pay,
    _act_fail_no_trust,
    _act_sell_offer,
    _act_fail_sell_underfunded,
    _act_create_account,
]


# ---------------------------------------------------------------------------------------------
# Ledgers.


@dataclass
class _TxOut:
    envelope: xdr.TransactionEnvelope
    meta: xdr.TransactionResultMeta
    success: bool


def _run_tx(w: _World, plan: _Plan, seq: int, close_time: int) -> _TxOut:
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

    fee_changes = _Changes(seq)
    fee_changes.touch(src, lambda: setattr(src, "balance", src.balance - fee))
    w.fee_pool += fee
    before = _Changes(seq)
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


def _plan_next(w: _World, seq: int) -> _Plan:
    for _ in range(len(_SCHEDULE)):
        action = _SCHEDULE[w.step % len(_SCHEDULE)]
        w.step += 1
        plan = action(w, seq)
        if plan is not None:
            return plan
    return _act_create_account(w, seq)


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
    w: _World, seq: int, index: int, prev_hash: bytes, skip_list: list[bytes], validator: Keypair
) -> tuple[xdr.LedgerCloseMeta, bytes, list[_TxOut]]:
    """One LedgerCloseMeta v1; returns it, its header hash and its transactions."""
    close_time = FIRST_CLOSE_TIME + CLOSE_INTERVAL * index
    outs = [_run_tx(w, _plan_next(w, seq), seq, close_time) for _ in range(_tx_count(index))]
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
    w = _World(network_passphrase)
    validator = _keypair("validator")
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
