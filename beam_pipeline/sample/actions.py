"""The transaction scenarios of the sample: what each ledger's transactions do to the world.

Each action looks at the world and returns a Plan (or None when the world does not allow it yet):
the transaction's source account, a function adding its operations to a builder, and a function
applying them for a given ledger. SCHEDULE is the order in which the actions take turns, so the
sample holds successes and failures of payments, trustlines and offers, including one trade.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from stellar_sdk import Asset, Price, TransactionBuilder, xdr

from beam_pipeline.sample.world import BASE_RESERVE, Changes, Offer, SimAccount, Trustline, World, keypair

STARTING_BALANCE = 10_000 * 10**7
_XLM = Asset.native()


def _amount(stroops: int) -> str:
    """Stroops as the decimal string stellar_sdk's builder wants (exact, no float rounding)."""
    return f"{stroops // 10**7}.{stroops % 10**7:07d}"


def _op_result(op_type: xdr.OperationType, **result: object) -> xdr.OperationResult:
    tr = xdr.OperationResultTr(op_type, **result)
    return xdr.OperationResult(xdr.OperationResultCode.opINNER, tr=tr)


def _offer_success(effect: xdr.ManageOfferEffect, offer: Offer | None, claimed: list) -> xdr.ManageOfferSuccessResult:
    made = xdr.ManageOfferSuccessResultOffer(effect, offer=offer.xdr_offer() if offer else None)
    return xdr.ManageOfferSuccessResult(offers_claimed=claimed, offer=made)


@dataclass
class Applied:
    """What applying one transaction's operations produced."""

    results: list[xdr.OperationResult]
    op_changes: list[Changes]
    success: bool = True


# A planned transaction: its source, a function adding its operations to a builder, and a
# function that applies them to the world (mutating it only on success) for a given ledger.
Plan = tuple[SimAccount, Callable[[TransactionBuilder], None], Callable[[int], Applied]]


def _act_create_account(w: World, seq: int) -> Plan:
    label = "issuer" if w.issuer is None else f"user-{w.created_users}"
    kp = keypair(label)
    dest = SimAccount(kp, STARTING_BALANCE, seq << 32, created=seq)
    root = w.root

    def apply(seq: int) -> Applied:
        ch = Changes(seq)
        ch.create(dest)
        ch.touch(root, lambda: setattr(root, "balance", root.balance - STARTING_BALANCE))
        if w.issuer is None:
            w.issuer, w.asset = dest, Asset("USD", dest.address)
        else:
            w.accounts.append(dest)
            w.created_users += 1
        result = xdr.CreateAccountResult(xdr.CreateAccountResultCode.CREATE_ACCOUNT_SUCCESS)
        return Applied([_op_result(xdr.OperationType.CREATE_ACCOUNT, create_account_result=result)], [ch])

    return root, lambda b: b.append_create_account_op(kp.public_key, _amount(STARTING_BALANCE)), apply


def _act_change_trust(w: World, seq: int) -> Plan | None:
    src = w.pick(w.untrusted(seq))
    if src is None:
        return None
    asset = w.asset

    def apply(seq: int) -> Applied:
        ch = Changes(seq)
        line = Trustline(src, asset, created=seq)
        ch.create(line)
        w.trustlines[src.address] = line
        ch.touch(src, lambda: setattr(src, "sub_entries", src.sub_entries + 1))
        result = xdr.ChangeTrustResult(xdr.ChangeTrustResultCode.CHANGE_TRUST_SUCCESS)
        return Applied([_op_result(xdr.OperationType.CHANGE_TRUST, change_trust_result=result)], [ch])

    return src, lambda b: b.append_change_trust_op(asset), apply


def _payment(
    w: World, src: SimAccount, dest: SimAccount, asset: Asset, amount: int, ch: Changes
) -> xdr.OperationResult:
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


def _payments_plan(w: World, src: SimAccount, legs: list[tuple[SimAccount, Asset, int]]) -> Plan:
    """A transaction of one or more payments; it fails as a whole if any payment fails."""

    def add_ops(b: TransactionBuilder) -> None:
        for dest, asset, amount in legs:
            b.append_payment_op(dest.address, asset, _amount(amount))

    def apply(seq: int) -> Applied:
        snapshot = w.snapshot()
        results, changes = [], []
        for dest, asset, amount in legs:
            ch = Changes(seq)
            results.append(_payment(w, src, dest, asset, amount, ch))
            changes.append(ch)
        ok = all(r.tr.payment_result.code == xdr.PaymentResultCode.PAYMENT_SUCCESS for r in results)
        if not ok:
            w.restore(snapshot)  # a failed transaction leaves no trace but its fee and sequence bump
        return Applied(results, changes, ok)

    return src, add_ops, apply


def _act_pay_credit(w: World, seq: int) -> Plan | None:
    line = w.pick(w.trusted(seq))
    return None if line is None else _payments_plan(w, w.issuer, [(line.owner, w.asset, 250 * 10**7)])


def _neighbours(w: World, seq: int, n: int) -> tuple[SimAccount, list[SimAccount]] | None:
    """A source user and the n users after it (round-robin), or None while there are too few users."""
    users = w.users(seq)
    if len(users) < n + 1:
        return None
    src = w.pick(users)
    i = users.index(src)
    return src, [users[(i + k) % len(users)] for k in range(1, n + 1)]


def _act_pay_native(w: World, seq: int) -> Plan | None:
    found = _neighbours(w, seq, 1)
    return found and _payments_plan(w, found[0], [(found[1][0], _XLM, 125 * 10**6)])


def _act_multi_pay(w: World, seq: int) -> Plan | None:
    found = _neighbours(w, seq, 2)
    return found and _payments_plan(w, found[0], [(d, _XLM, (3 + i) * 10**7) for i, d in enumerate(found[1])])


def _act_fail_underfunded(w: World, seq: int) -> Plan | None:
    found = _neighbours(w, seq, 1)
    return found and _payments_plan(w, found[0], [(found[1][0], _XLM, found[0].balance + 1_000 * 10**7)])


def _act_fail_no_trust(w: World, seq: int) -> Plan | None:
    """Two payments: the first would succeed, the second hits a missing trustline."""
    lines, bare = w.trusted(seq), w.untrusted(seq)
    line = w.pick([t for t in lines if t.balance >= 5 * 10**7])
    if line is None or not bare:
        return None
    src = line.owner
    return _payments_plan(w, src, [(bare[0], _XLM, 10**7), (bare[-1], w.asset, 5 * 10**7)])


def _offer_plan(
    w: World, src: SimAccount, sell: bool, selling: Asset, buying: Asset, amount: int, price: tuple[int, int]
) -> Plan:
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

    def apply(seq: int) -> Applied:
        line = w.trustlines.get(src.address)
        held = src.balance - (3 + src.sub_entries) * BASE_RESERVE if selling.is_native() else line.balance
        if held < stored_amount:
            return Applied(
                [_op_result(op_type, **wrap(getattr(codes, prefix + "UNDERFUNDED")))], [Changes(seq)], False
            )
        ch = Changes(seq)
        w.id_pool += 1
        offer = Offer(w.id_pool, src, selling, buying, stored_amount, stored_price, created=seq)
        ch.create(offer)
        w.offers.append(offer)
        ch.touch(src, lambda: setattr(src, "sub_entries", src.sub_entries + 1))
        success = _offer_success(xdr.ManageOfferEffect.MANAGE_OFFER_CREATED, offer, [])
        return Applied([_op_result(op_type, **wrap(getattr(codes, prefix + "SUCCESS"), success))], [ch])

    return src, add_ops, apply


def _act_sell_offer(w: World, seq: int) -> Plan | None:
    line = w.pick([t for t in w.trusted(seq) if t.balance >= 50 * 10**7])
    return None if line is None else _offer_plan(w, line.owner, True, w.asset, _XLM, 50 * 10**7, (2, 1))


def _act_buy_offer(w: World, seq: int) -> Plan | None:
    # Bids at 1 XLM per USD never cross the asks at 2, so the offer rests on the book.
    line = w.pick(w.trusted(seq))
    return None if line is None else _offer_plan(w, line.owner, False, _XLM, w.asset, 20 * 10**7, (1, 1))


def _act_fail_sell_underfunded(w: World, seq: int) -> Plan | None:
    line = w.pick(w.trusted(seq))
    if line is None:
        return None
    return _offer_plan(w, line.owner, True, w.asset, _XLM, line.balance + 10**9, (3, 1))


def _act_cross_offer(w: World, seq: int) -> Plan | None:
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

    def apply(seq: int) -> Applied:
        ch = Changes(seq)
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
        return Applied([_op_result(xdr.OperationType.MANAGE_BUY_OFFER, manage_buy_offer_result=result)], [ch])

    return buyer, add_ops, apply


# The order in which actions take turns; unavailable ones are skipped, create_account always works.
SCHEDULE: list[Callable[[World, int], Plan | None]] = [
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


def plan_next(w: World, seq: int) -> Plan:
    """The next available action in SCHEDULE, as a Plan for ledger ``seq``."""
    for _ in range(len(SCHEDULE)):
        action = SCHEDULE[w.step % len(SCHEDULE)]
        w.step += 1
        plan = action(w, seq)
        if plan is not None:
            return plan
    return _act_create_account(w, seq)

