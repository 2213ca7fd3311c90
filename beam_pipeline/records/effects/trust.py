"""Effects of trust lines: change_trust, allow_trust and set_trust_line_flags, and the
``liquidity_pool_revoked`` effect of a revocation that pulls the trustor's pool shares.

allow_trust writes a flag-less ``trustline_flags_updated`` first and then one with the flag it set
or cleared (stellar-etl's "forward compatibility" pair); set_trust_line_flags always writes one,
even with no flags. When revoking authorization withdraws pool shares into claimable balances,
those balances' created/claimant effects (sorted by asset) precede ``liquidity_pool_revoked``.
"""

from __future__ import annotations

from stellar_sdk import xdr

from beam_pipeline.records.effects._common import (
    Details,
    Effects,
    add_asset,
    amount,
    muxed_account_id,
    pool_assets,
    pool_change,
    pool_details,
)
from beam_pipeline.records.effects._common import EffectType as E
from beam_pipeline.records.effects.claimable import add_balance_created
from beam_pipeline.records.operations.claimable import balance_id_hex
from beam_pipeline.util.accounts import account_id_address
from beam_pipeline.util.assets import (
    LIQUIDITY_POOL_SHARES,
    canonical_asset,
    change_trust_asset_to_asset,
    extract_asset,
    pool_id_from_params,
    pool_id_hex,
    pool_id_strkey,
)

_OT = xdr.OperationType
_T = xdr.LedgerEntryType
_AUTHORIZED = 1
_AUTHORIZED_TO_MAINTAIN_LIABILITIES = 2
# xdr.TrustLineFlags bits and stellar-etl's keys for them ("liabilites" is its spelling).
_TRUST_FLAGS = (
    (_AUTHORIZED, "authorized_flag"),
    (_AUTHORIZED_TO_MAINTAIN_LIABILITIES, "authorized_to_maintain_liabilites"),
    (4, "clawback_enabled_flag"),
)


def change_trust(fx: Effects) -> None:
    op = fx.ctx.op.body.change_trust_op
    for change in fx.changes:
        if change.type != _T.TRUSTLINE:
            continue
        if change.pre is None:
            effect, entry = E.TRUSTLINE_CREATED, change.post
        elif change.post is None:
            effect, entry = E.TRUSTLINE_REMOVED, change.pre
        else:
            effect, entry = E.TRUSTLINE_UPDATED, change.post
        # One effect only: the change of the trust line of the operation's kind (asset or pool share).
        if op.line.type != entry.data.trust_line.asset.type:
            continue
        details: Details = {"limit": amount(op.limit)}
        if op.line.type == xdr.AssetType.ASSET_TYPE_POOL_SHARE:
            params = op.line.liquidity_pool
            if params.type != xdr.LiquidityPoolType.LIQUIDITY_POOL_CONSTANT_PRODUCT:
                raise fx.ctx.error(f"unknown liquidity pool type {params.type}")
            pool_id = pool_id_from_params(params)
            details["asset_type"] = LIQUIDITY_POOL_SHARES
            details["liquidity_pool_id"] = pool_id_hex(pool_id)
            details["liquidity_pool_id_strkey"] = pool_id_strkey(pool_id)
        else:
            add_asset(details, change_trust_asset_to_asset(op.line))
        fx.add_source(effect, details)
        break


def _add_flags_effect(
    fx: Effects, trustor: xdr.AccountID, asset: xdr.Asset, set_flags: int | None, clear_flags: int | None
) -> None:
    """stellar-etl's ``addTrustLineFlagsEffect``: written when either flag set is given (even 0)."""
    details: Details = {"trustor": account_id_address(trustor)}
    add_asset(details, asset)
    for flags, value in ((set_flags, True), (clear_flags, False)):
        if flags is None:
            continue
        for bit, key in _TRUST_FLAGS:
            if flags & bit:
                details[key] = value
    if set_flags is not None or clear_flags is not None:
        fx.add_source(E.TRUSTLINE_FLAGS_UPDATED, details)


def _allow_trust_asset(fx: Effects, code: xdr.AssetCode) -> xdr.Asset:
    issuer = muxed_account_id(fx.ctx.source)
    if code.type == xdr.AssetType.ASSET_TYPE_CREDIT_ALPHANUM4:
        return xdr.Asset(code.type, alpha_num4=xdr.AlphaNum4(code.asset_code4, issuer))
    if code.type == xdr.AssetType.ASSET_TYPE_CREDIT_ALPHANUM12:
        return xdr.Asset(code.type, alpha_num12=xdr.AlphaNum12(code.asset_code12, issuer))
    raise fx.ctx.error(f"allow_trust with asset code type {code.type}")


def allow_trust(fx: Effects) -> None:
    op = fx.ctx.op.body.allow_trust_op
    asset = _allow_trust_asset(fx, op.asset)
    details: Details = {"trustor": account_id_address(op.trustor)}
    add_asset(details, asset)
    fx.add_source(E.TRUSTLINE_FLAGS_UPDATED, details)
    authorize = op.authorize.uint32
    if authorize & _AUTHORIZED:
        _add_flags_effect(fx, op.trustor, asset, _AUTHORIZED, None)
    elif authorize & _AUTHORIZED_TO_MAINTAIN_LIABILITIES:
        _add_flags_effect(fx, op.trustor, asset, _AUTHORIZED_TO_MAINTAIN_LIABILITIES, None)
    else:
        _add_flags_effect(fx, op.trustor, asset, None, _AUTHORIZED | _AUTHORIZED_TO_MAINTAIN_LIABILITIES)
    add_pool_revoked(fx)


def set_trust_line_flags(fx: Effects) -> None:
    op = fx.ctx.op.body.set_trust_line_flags_op
    _add_flags_effect(fx, op.trustor, op.asset, op.set_flags.uint32, op.clear_flags.uint32)
    add_pool_revoked(fx)


def _asset_order(asset: xdr.Asset) -> tuple[int, str, str]:
    """Go's ``Asset.LessThan`` order: type, then code, then issuer."""
    _, code, issuer = extract_asset(asset)
    return asset.type.value, code, issuer


def add_pool_revoked(fx: Effects) -> None:
    """Claimable balances created by a revocation, then ``liquidity_pool_revoked`` (if a pool changed)."""
    pool = pool_change(fx.changes, None)
    if pool is None:
        return
    created = [
        c.post.data.claimable_balance
        for c in fx.changes
        if c.type == _T.CLAIMABLE_BALANCE and c.pre is None and c.post is not None
    ]
    if not created:
        return
    balance_ids = {canonical_asset(cb.asset): balance_id_hex(cb.balance_id) for cb in created}
    for entry in sorted(created, key=lambda cb: _asset_order(cb.asset)):
        add_balance_created(fx, entry)
    revoked = []
    for asset, delta in zip(pool_assets(pool.entry), (pool.reserve_a, pool.reserve_b), strict=True):
        if asset in balance_ids:
            revoked.append({"asset": asset, "amount": amount(-delta), "claimable_balance_id": balance_ids[asset]})
    fx.add_source(
        E.LIQUIDITY_POOL_REVOKED,
        {
            "liquidity_pool": pool_details(pool.entry),
            "reserves_revoked": revoked,
            "shares_revoked": amount(-pool.shares),
        },
    )


EFFECTS = {
    _OT.CHANGE_TRUST: change_trust,
    _OT.ALLOW_TRUST: allow_trust,
    _OT.SET_TRUST_LINE_FLAGS: set_trust_line_flags,
}
