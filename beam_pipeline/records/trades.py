"""``trades``: one row per fill of an offer or a liquidity pool (stellar-etl ``history_trades``).

stellar-etl's ``TransformTrade`` reads the claim atoms (``ClaimAtom``) in the result of every
manage buy/sell offer, create passive sell offer and path payment of a *successful* transaction.
Each atom is a fill against an order-book offer (``ORDER_BOOK``, or ``V0`` in results written
before protocol 18, whose seller is a bare ed25519 key) or against a liquidity pool
(``LIQUIDITY_POOL``). Its semantics, reproduced here:

- ``order`` is the atom's position in the result (atoms with nothing bought or sold make no row
  but keep their position); ``history_operation_id`` is the operation's TOID.
- The *selling* side is the maker (the offer's seller or the pool), the *buying* side is the
  operation's source account (never muxed).
- ``price_n``/``price_d``: for an offer, its price before the fill, read from the last change of
  that offer among the operation's ledger-entry changes; for a pool, amount bought / amount sold.
- ``buying_offer_id``: the offer the operation left on the book, else a synthetic id made from
  the operation id (TOID + 1 with bit 62 set, Horizon's ``EncodeOfferId``).
- Pool fills: ``liquidity_pool_fee`` and the reserves come from the pool's last change in the
  operation (its pre-state); ``rounding_slippage`` is go-stellar-sdk's ``CalculatePoolPayout``
  slippage in basis points, computed as stellar-etl does (for a strict receive it passes the
  *disbursed* amount as the deposit; an overflow gives the int64 maximum for strict receives and
  the minimum for strict sends).
- ``seller_is_exact``: true for strict receive, false for strict send, null for offers.

``ledger_sequence`` is not a stellar-etl column: the sink partitions and checks coverage by it
(it equals ``history_operation_id >> 32``).
"""

from __future__ import annotations

from stellar_sdk import xdr

from beam_pipeline.records.base import Row
from beam_pipeline.records.operations.changes import Change, operation_changes
from beam_pipeline.util.accounts import account_address, account_id_address
from beam_pipeline.util.assets import asset_id, extract_asset, pool_id_hex, pool_id_strkey
from beam_pipeline.util.toid import toid
from beam_pipeline.xdr.fast import xdr_bytes
from beam_pipeline.xdr.ledger import LedgerView, TxView, tx_source_account

_OT = xdr.OperationType
_CA = xdr.ClaimAtomType
TRADE_TYPE_ORDER_BOOK = 1
TRADE_TYPE_LIQUIDITY_POOL = 2
_INT64_MAX = (1 << 63) - 1
_INT64_MIN = -(1 << 63)
_MAX_BIPS = 10_000
_OFFER_ID_TOID_TYPE = 1 << 62  # Horizon's EncodeOfferId(id, TOIDType)
_OFFER_ID_MASK = 0xC000000000000000


class TradeError(ValueError):
    """A trade operation whose result or changes are not what a successful one must have."""


class Fill:
    """One claim atom, whatever its arm: what was sold and bought, and by whom."""

    def __init__(self, atom: xdr.ClaimAtom):
        t = atom.type
        self.type = t
        if t == _CA.CLAIM_ATOM_TYPE_V0:
            a = atom.v0
            key = xdr.PublicKey(xdr.PublicKeyType.PUBLIC_KEY_TYPE_ED25519, ed25519=a.seller_ed25519)
            self.seller_id: xdr.AccountID | None = xdr.AccountID(key)
        elif t == _CA.CLAIM_ATOM_TYPE_ORDER_BOOK:
            a = atom.order_book
            self.seller_id = a.seller_id
        elif t == _CA.CLAIM_ATOM_TYPE_LIQUIDITY_POOL:
            a = atom.liquidity_pool
            self.seller_id = None
        else:
            raise TradeError(f"unknown claim atom type {t}")
        self.seller: str | None = None if self.seller_id is None else account_id_address(self.seller_id)
        self.offer_id: int | None = None if self.seller_id is None else a.offer_id.int64
        self.pool_id: bytes | None = a.liquidity_pool_id.pool_id.hash if self.seller_id is None else None
        self.asset_sold: xdr.Asset = a.asset_sold
        self.asset_bought: xdr.Asset = a.asset_bought
        self.amount_sold: int = a.amount_sold.int64
        self.amount_bought: int = a.amount_bought.int64

    @property
    def is_pool(self) -> bool:
        return self.seller_id is None

    def offer_key(self) -> bytes:
        key = xdr.LedgerKeyOffer(self.seller_id, xdr.Int64(self.offer_id))
        return xdr.LedgerKey(xdr.LedgerEntryType.OFFER, offer=key).to_xdr_bytes()

    def pool_key(self) -> bytes:
        key = xdr.LedgerKeyLiquidityPool(xdr.PoolID(xdr.Hash(self.pool_id)))
        return xdr.LedgerKey(xdr.LedgerEntryType.LIQUIDITY_POOL, liquidity_pool=key).to_xdr_bytes()


def claims(op_type: xdr.OperationType, result: xdr.OperationResult) -> tuple[list, xdr.OfferEntry | None, bool | None]:
    """(claim atoms, the offer left on the book or None, seller_is_exact) of a successful operation."""
    tr = result.tr
    if tr is None:
        raise TradeError(f"{op_type.name} has no inner result (code {result.code.name})")
    if op_type == _OT.PATH_PAYMENT_STRICT_SEND:
        success = tr.path_payment_strict_send_result.success
        if success is None:
            raise TradeError("path_payment_strict_send did not succeed")
        return success.offers, None, False
    if op_type == _OT.PATH_PAYMENT_STRICT_RECEIVE:
        success = tr.path_payment_strict_receive_result.success
        if success is None:
            raise TradeError("path_payment_strict_receive did not succeed")
        return success.offers, None, True
    if op_type == _OT.MANAGE_BUY_OFFER:
        offer_result = tr.manage_buy_offer_result
    elif op_type == _OT.MANAGE_SELL_OFFER:
        offer_result = tr.manage_sell_offer_result
    elif op_type == _OT.CREATE_PASSIVE_SELL_OFFER:
        # stellar-core has written passive offers' results under the manage_sell_offer arm.
        if tr.type == _OT.MANAGE_SELL_OFFER:
            offer_result = tr.manage_sell_offer_result
        else:
            offer_result = tr.create_passive_sell_offer_result
    else:
        raise TradeError(f"operation type {op_type.name} does not trade")
    if offer_result is None or offer_result.success is None:
        raise TradeError(f"{op_type.name} did not succeed")
    success = offer_result.success
    return success.offers_claimed, success.offer.offer, None


def _latest_pre(changes: list[Change], key: bytes, what: str) -> xdr.LedgerEntry:
    """The pre-state of the last change of `key` among an operation's changes (stellar-etl's lookup)."""
    for change in reversed(changes):
        if change.pre is not None and change.key_bytes() == key:
            return change.pre
    raise TradeError(f"no change of {what} among the operation's changes")


def pool_payout(reserve_a: int, reserve_b: int, received: int, fee_bips: int) -> tuple[int, int, bool]:
    """go-stellar-sdk ``orderbook.CalculatePoolPayout`` with rounding slippage: (payout, slippage bips, ok).

    CAP-38's ``y = floor[(1 - F) Yx / (X + x - Fx)]`` in basis points, in exact integers (Go uses
    256-bit ones, which none of these products can overflow); a division by zero is 0 there.
    """
    if fee_bips < 0 or fee_bips >= _MAX_BIPS or received > _INT64_MAX - reserve_a:
        return 0, 0, False
    f = _MAX_BIPS - fee_bips
    denom = reserve_a * _MAX_BIPS + received * f
    if denom == 0:
        return 0, 0, False
    numer = reserve_b * received * f
    result = numer // denom
    slippage, ok = 0, True
    if numer % denom:
        unrounded = numer * _MAX_BIPS // denom
        s = abs(unrounded - result * _MAX_BIPS) * _MAX_BIPS
        s = (s // unrounded if unrounded else 0) // 100
        ok = s < 1 << 63
        slippage = s if ok else _to_int64(s)
    ok = ok and result < 1 << 64 and _to_int64(result) > 0
    return _to_int64(result), slippage, ok


def _to_int64(value: int) -> int:
    value &= (1 << 64) - 1
    return value - (1 << 64) if value >= 1 << 63 else value


def rounding_slippage(op_type: xdr.OperationType, fill: Fill, pool: xdr.LiquidityPoolEntry) -> int:
    """stellar-etl's ``rounding_slippage`` of a pool fill, from the pool's state before the operation."""
    cp = pool.body.constant_product
    disbursed, deposited = cp.reserve_a.int64, cp.reserve_b.int64
    if xdr_bytes(fill.asset_sold) != xdr_bytes(cp.params.asset_a):
        disbursed, deposited = deposited, disbursed
    fee = cp.params.fee.int32
    if op_type == _OT.PATH_PAYMENT_STRICT_RECEIVE:
        _, slippage, ok = pool_payout(deposited, disbursed, fill.amount_sold, fee)
        return slippage if ok else _INT64_MAX
    if op_type == _OT.PATH_PAYMENT_STRICT_SEND:
        _, slippage, ok = pool_payout(deposited, disbursed, fill.amount_bought, fee)
        return slippage if ok else _INT64_MIN
    raise TradeError(f"a liquidity pool fill in a {op_type.name} operation")


def synthetic_offer_id(operation_id: int) -> int:
    """Horizon's id for an offer that never rested on the book: the TOID (+1) marked as such."""
    value = operation_id + 1
    if value & _OFFER_ID_MASK:
        raise TradeError(f"operation id {operation_id} too large for a synthetic offer id")
    return value | _OFFER_ID_TOID_TYPE


def _asset(prefix: str, asset: xdr.Asset) -> dict:
    kind, code, issuer = extract_asset(asset)
    return {
        f"{prefix}_asset_code": code,
        f"{prefix}_asset_issuer": issuer,
        f"{prefix}_asset_type": kind,
        f"{prefix}_asset_id": asset_id(code, issuer, kind),
    }


TRADE_OPERATIONS = frozenset(
    {
        _OT.MANAGE_BUY_OFFER,
        _OT.MANAGE_SELL_OFFER,
        _OT.CREATE_PASSIVE_SELL_OFFER,
        _OT.PATH_PAYMENT_STRICT_RECEIVE,
        _OT.PATH_PAYMENT_STRICT_SEND,
    }
)


def operation_trades(ledger: LedgerView, tx: TxView, index: int) -> list[Row]:
    """The trades of operation `index` (0-based) of a successful transaction."""
    op = tx.operations[index]
    op_type = op.body.type
    results = tx.operation_results
    if results is None or index >= len(results):
        raise TradeError("no operation result")
    atoms, left_offer, seller_is_exact = claims(op_type, results[index])
    operation_id = toid(ledger.sequence, tx.index, index)
    buyer = account_address(op.source_account if op.source_account is not None else tx_source_account(tx))
    buying_offer_id = left_offer.offer_id.int64 if left_offer is not None else synthetic_offer_id(operation_id)
    changes: list[Change] | None = None
    rows = []
    for order, atom in enumerate(atoms):
        fill = Fill(atom)
        if fill.amount_sold < 0 or fill.amount_bought < 0:
            raise TradeError(f"claim atom {order} has a negative amount")
        if fill.amount_sold == 0 and fill.amount_bought == 0:
            continue
        if changes is None:
            changes = operation_changes(tx, index, ledger.protocol_version)
        pool_fee = slippage = pool_hex = pool_strkey = offer_id = None
        if fill.is_pool:
            pool = _latest_pre(changes, fill.pool_key(), f"liquidity pool {fill.pool_id.hex()}").data.liquidity_pool
            price_n, price_d = fill.amount_bought, fill.amount_sold
            pool_hex, pool_strkey = pool_id_hex(fill.pool_id), pool_id_strkey(fill.pool_id)
            pool_fee = pool.body.constant_product.params.fee.int32
            slippage = rounding_slippage(op_type, fill, pool)
            trade_type, seller = TRADE_TYPE_LIQUIDITY_POOL, ""
        else:
            offer = _latest_pre(changes, fill.offer_key(), f"offer {fill.offer_id}").data.offer
            price_n, price_d = offer.price.n.int32, offer.price.d.int32
            offer_id, trade_type, seller = fill.offer_id, TRADE_TYPE_ORDER_BOOK, fill.seller
        rows.append(
            {
                "order": order,
                "ledger_closed_at": ledger.closed_at,
                "selling_account_address": seller,
                **_asset("selling", fill.asset_sold),
                "selling_amount": fill.amount_sold / 10_000_000,
                "buying_account_address": buyer,
                **_asset("buying", fill.asset_bought),
                "buying_amount": fill.amount_bought / 10_000_000,
                "price_n": price_n,
                "price_d": price_d,
                "selling_offer_id": offer_id,
                "buying_offer_id": buying_offer_id,
                "selling_liquidity_pool_id": pool_hex,
                "liquidity_pool_fee": pool_fee,
                "history_operation_id": operation_id + 1,
                "trade_type": trade_type,
                "rounding_slippage": slippage,
                "seller_is_exact": seller_is_exact,
                "selling_liquidity_pool_id_strkey": pool_strkey,
                "ledger_sequence": ledger.sequence,
            }
        )
    return rows


def transform(ledger: LedgerView) -> list[Row]:
    """Every fill of every trading operation of the ledger's successful transactions, in order."""
    rows: list[Row] = []
    for tx in ledger.transactions:
        if not tx.successful:
            continue
        for index, op in enumerate(tx.operations):
            if op.body.type not in TRADE_OPERATIONS:
                continue
            try:
                rows += operation_trades(ledger, tx, index)
            except TradeError as e:
                raise TradeError(f"ledger {ledger.sequence} tx {tx.hash_hex} operation {index + 1}: {e}") from e
    return rows
