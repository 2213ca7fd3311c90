"""Details of trust-line operations: change_trust, allow_trust, set_trust_line_flags and clawback."""

from __future__ import annotations

from stellar_sdk import xdr

from beam_pipeline.records.operations._common import (
    Details,
    OpContext,
    add_account,
    add_asset,
    flag_lists,
    stroops_to_real,
)
from beam_pipeline.util.accounts import account_id_address
from beam_pipeline.util.assets import (
    LIQUIDITY_POOL_SHARES,
    change_trust_asset_to_asset,
    pool_id_from_params,
    pool_id_hex,
    pool_id_strkey,
)

_OT = xdr.OperationType

TRUST_LINE_FLAGS = [
    (1, "authorized"),
    (2, "authorized_to_maintain_liabilities"),
    (4, "clawback_enabled"),
]


def change_trust(ctx: OpContext) -> Details:
    op = ctx.op.body.change_trust_op
    details: Details = {}
    line = op.line
    if line.type == xdr.AssetType.ASSET_TYPE_POOL_SHARE:
        params = line.liquidity_pool
        if params.type != xdr.LiquidityPoolType.LIQUIDITY_POOL_CONSTANT_PRODUCT:
            raise ctx.error(f"unknown liquidity pool type {params.type}")
        pool_id = pool_id_from_params(params)
        details["asset_type"] = LIQUIDITY_POOL_SHARES
        details["liquidity_pool_id"] = pool_id_hex(pool_id)
        details["liquidity_pool_id_strkey"] = pool_id_strkey(pool_id)
    else:
        add_asset(details, change_trust_asset_to_asset(line))
        # The issuer is the trustee; the native asset has none (JSON null).
        details["trustee"] = details.get("asset_issuer")
    add_account(details, ctx.source, "trustor")
    details["limit"] = stroops_to_real(op.limit.int64)
    return details


def _issued_by_source(ctx: OpContext, code: xdr.AssetCode) -> xdr.Asset:
    """allow_trust names only a code; the asset's issuer is the operation's source account."""
    source = ctx.source
    key = source.ed25519 if source.type == xdr.CryptoKeyType.KEY_TYPE_ED25519 else source.med25519.ed25519
    issuer = xdr.AccountID(xdr.PublicKey(xdr.PublicKeyType.PUBLIC_KEY_TYPE_ED25519, ed25519=key))
    if code.type == xdr.AssetType.ASSET_TYPE_CREDIT_ALPHANUM4:
        return xdr.Asset(code.type, alpha_num4=xdr.AlphaNum4(code.asset_code4, issuer))
    if code.type == xdr.AssetType.ASSET_TYPE_CREDIT_ALPHANUM12:
        return xdr.Asset(code.type, alpha_num12=xdr.AlphaNum12(code.asset_code12, issuer))
    raise ctx.error(f"unexpected allow_trust asset code type {code.type}")


def allow_trust(ctx: OpContext) -> Details:
    op = ctx.op.body.allow_trust_op
    details: Details = {}
    add_asset(details, _issued_by_source(ctx, op.asset))
    add_account(details, ctx.source, "trustee")
    details["trustor"] = account_id_address(op.trustor)
    flags = op.authorize.uint32
    details["authorize"] = bool(flags & 1)
    # The two newer flags appear only when set.
    if flags & 2:
        details["authorize_to_maintain_liabilities"] = True
    if flags & 4:
        details["clawback_enabled"] = True
    return details


def _add_trust_line_flags(details: Details, flags: int, prefix: str) -> None:
    if flags <= 0:
        return
    numbers, names = flag_lists(flags, TRUST_LINE_FLAGS)
    # stellar-etl builds these lists from nil slices: no named bit means JSON null, not [].
    details[f"{prefix}_flags"] = numbers or None
    details[f"{prefix}_flags_s"] = names or None


def set_trust_line_flags(ctx: OpContext) -> Details:
    op = ctx.op.body.set_trust_line_flags_op
    details: Details = {"trustor": account_id_address(op.trustor)}
    add_asset(details, op.asset)
    _add_trust_line_flags(details, op.set_flags.uint32, "set")
    _add_trust_line_flags(details, op.clear_flags.uint32, "clear")
    return details


def clawback(ctx: OpContext) -> Details:
    op = ctx.op.body.clawback_op
    details: Details = {}
    add_asset(details, op.asset)
    add_account(details, op.from_, "from")
    details["amount"] = stroops_to_real(op.amount.int64)
    return details


DETAILS = {
    _OT.CHANGE_TRUST: change_trust,
    _OT.ALLOW_TRUST: allow_trust,
    _OT.SET_TRUST_LINE_FLAGS: set_trust_line_flags,
    _OT.CLAWBACK: clawback,
}
