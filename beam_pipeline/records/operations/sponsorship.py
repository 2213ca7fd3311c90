"""Details of sponsorship operations: begin/end sponsoring future reserves and revoke_sponsorship."""

from __future__ import annotations

from stellar_sdk import xdr

from beam_pipeline.records.operations._common import Details, OpContext, add_account
from beam_pipeline.records.operations.claimable import balance_id_hex, balance_id_strkey
from beam_pipeline.util.accounts import account_address, account_id_address, signer_key_address
from beam_pipeline.util.assets import canonical_asset, change_trust_asset_to_asset, go_string, pool_id_strkey
from beam_pipeline.xdr.ledger import tx_source_account

_OT = xdr.OperationType
_T = xdr.LedgerEntryType


def begin_sponsoring_future_reserves(ctx: OpContext) -> Details:
    return {"sponsored_id": account_id_address(ctx.op.body.begin_sponsoring_future_reserves_op.sponsored_id)}


def _operation_source(ctx: OpContext, op: xdr.Operation) -> xdr.MuxedAccount:
    return op.source_account if op.source_account is not None else tx_source_account(ctx.tx)


def end_sponsoring_future_reserves(ctx: OpContext) -> Details:
    """``begin_sponsor``: the source of the nearest earlier begin op that sponsors this op's source.

    Only for successful transactions: a failed one need not be a well-formed sandwich, and
    stellar-etl leaves the details empty rather than guess.
    """
    details: Details = {}
    if not ctx.tx.successful:
        return details
    sponsoree = account_address(ctx.source)
    ops = ctx.tx.operations
    for i in range(ctx.index - 1, -1, -1):
        begin = ops[i].body.begin_sponsoring_future_reserves_op
        if begin is not None and account_id_address(begin.sponsored_id) == sponsoree:
            add_account(details, _operation_source(ctx, ops[i]), "begin_sponsor")
            break
    return details


def _ledger_key_details(details: Details, key: xdr.LedgerKey) -> None:
    t = key.type
    if t == _T.ACCOUNT:
        details["account_id"] = account_id_address(key.account.account_id)
    elif t == _T.CLAIMABLE_BALANCE:
        balance_id = key.claimable_balance.balance_id
        details["claimable_balance_id"] = balance_id_hex(balance_id)
        details["claimable_balance_id_strkey"] = balance_id_strkey(balance_id)
    elif t == _T.DATA:
        details["data_account_id"] = account_id_address(key.data.account_id)
        details["data_name"] = go_string(key.data.data_name.string64)
    elif t == _T.OFFER:
        details["offer_id"] = key.offer.offer_id.int64
    elif t == _T.TRUSTLINE:
        details["trustline_account_id"] = account_id_address(key.trust_line.account_id)
        asset = key.trust_line.asset
        if asset.type == xdr.AssetType.ASSET_TYPE_POOL_SHARE:
            pool_id = asset.liquidity_pool_id.pool_id.hash
            details["trustline_liquidity_pool_id"] = pool_id.hex()
            details["trustline_liquidity_pool_id_strkey"] = pool_id_strkey(pool_id)
        else:
            details["trustline_asset"] = canonical_asset(change_trust_asset_to_asset(asset))
    elif t == _T.LIQUIDITY_POOL:
        pool_id = key.liquidity_pool.liquidity_pool_id.pool_id.hash
        details["liquidity_pool_id"] = pool_id.hex()
        details["liquidity_pool_id_strkey"] = pool_id_strkey(pool_id)
    # Soroban entry keys cannot be sponsored; stellar-etl adds nothing for them.


def revoke_sponsorship(ctx: OpContext) -> Details:
    op = ctx.op.body.revoke_sponsorship_op
    details: Details = {}
    if op.type == xdr.RevokeSponsorshipType.REVOKE_SPONSORSHIP_LEDGER_ENTRY:
        _ledger_key_details(details, op.ledger_key)
    elif op.type == xdr.RevokeSponsorshipType.REVOKE_SPONSORSHIP_SIGNER:
        details["signer_account_id"] = account_id_address(op.signer.account_id)
        details["signer_key"] = signer_key_address(op.signer.signer_key)
    return details


DETAILS = {
    _OT.BEGIN_SPONSORING_FUTURE_RESERVES: begin_sponsoring_future_reserves,
    _OT.END_SPONSORING_FUTURE_RESERVES: end_sponsoring_future_reserves,
    _OT.REVOKE_SPONSORSHIP: revoke_sponsorship,
}
