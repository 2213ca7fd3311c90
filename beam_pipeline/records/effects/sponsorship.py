"""Sponsorship effects, which any operation can cause: read from its ledger-entry changes.

For each change (in the operation's change order) first the entry's own sponsorship effect —
created, updated or removed, for accounts, trust lines, data entries and claimable balances
(offers and pools cannot be sponsored) — then the signer sponsorship effects of an account
change, sorted by signer strkey. begin/end_sponsoring_future_reserves and revoke_sponsorship have
no effects of their own; all of theirs come from here.
"""

from __future__ import annotations

from stellar_sdk import xdr

from beam_pipeline.records.effects._common import (
    Details,
    Effects,
    sponsor_of,
)
from beam_pipeline.records.effects._common import EffectType as E
from beam_pipeline.records.operations.changes import Change, signer_sponsors
from beam_pipeline.records.operations.claimable import balance_id_hex
from beam_pipeline.util.assets import canonical_asset, change_trust_asset_to_asset, pool_id_hex
from beam_pipeline.util.goformat import go_string

_T = xdr.LedgerEntryType

# (created, updated, removed) effect per sponsorable entry type.
_ENTRY_EFFECTS = {
    _T.ACCOUNT: (E.ACCOUNT_SPONSORSHIP_CREATED, E.ACCOUNT_SPONSORSHIP_UPDATED, E.ACCOUNT_SPONSORSHIP_REMOVED),
    _T.TRUSTLINE: (E.TRUSTLINE_SPONSORSHIP_CREATED, E.TRUSTLINE_SPONSORSHIP_UPDATED, E.TRUSTLINE_SPONSORSHIP_REMOVED),
    _T.DATA: (E.DATA_SPONSORSHIP_CREATED, E.DATA_SPONSORSHIP_UPDATED, E.DATA_SPONSORSHIP_REMOVED),
    _T.CLAIMABLE_BALANCE: (
        E.CLAIMABLE_BALANCE_SPONSORSHIP_CREATED,
        E.CLAIMABLE_BALANCE_SPONSORSHIP_UPDATED,
        E.CLAIMABLE_BALANCE_SPONSORSHIP_REMOVED,
    ),
}


def add_entry_sponsorship(fx: Effects, change: Change) -> None:
    """The sponsorship effect of one entry change, if its sponsor appeared, changed or went away."""
    kinds = _ENTRY_EFFECTS.get(change.type)
    if kinds is None:
        return
    created, updated, removed = kinds
    before, after = sponsor_of(change.pre), sponsor_of(change.post)
    if before is None and after is not None:
        effect, details = created, {"sponsor": after}
    elif before is not None and after is None:
        effect, details = removed, {"former_sponsor": before}
    elif before is not None and before != after:
        effect, details = updated, {"new_sponsor": after, "former_sponsor": before}
    else:
        return
    data = (change.post if change.post is not None else change.pre).data
    if change.type == _T.ACCOUNT:
        fx.add_account_id(data.account.account_id, effect, details)
    elif change.type == _T.TRUSTLINE:
        line = data.trust_line
        if line.asset.type == xdr.AssetType.ASSET_TYPE_POOL_SHARE:
            details["asset_type"] = "liquidity_pool"
            details["liquidity_pool_id"] = pool_id_hex(line.asset.liquidity_pool_id.pool_id.hash)
        else:
            details["asset"] = canonical_asset(change_trust_asset_to_asset(line.asset))
        fx.add_account_id(line.account_id, effect, details)
    elif change.type == _T.DATA:
        details["data_name"] = go_string(data.data.data_name.string64)
        fx.add_source(effect, details)
    else:
        details["balance_id"] = balance_id_hex(data.claimable_balance.balance_id)
        fx.add_source(effect, details)


def add_signer_sponsorship(fx: Effects, change: Change) -> None:
    """Signer sponsorship effects of an account change, one per signer whose sponsor changed."""
    if change.type != _T.ACCOUNT:
        return
    before = signer_sponsors(change.pre.data.account) if change.pre is not None else {}
    after = signer_sponsors(change.post.data.account) if change.post is not None else {}
    for signer in sorted(set(before) | set(after)):
        old, new = before.get(signer), after.get(signer)
        details: Details
        if old is None:
            details = {"sponsor": new, "signer": signer}
            fx.add_account_id(change.post.data.account.account_id, E.SIGNER_SPONSORSHIP_CREATED, details)
        elif new is None:
            details = {"former_sponsor": old, "signer": signer}
            fx.add_account_id(change.pre.data.account.account_id, E.SIGNER_SPONSORSHIP_REMOVED, details)
        elif old != new:
            details = {"former_sponsor": old, "new_sponsor": new, "signer": signer}
            fx.add_account_id(change.post.data.account.account_id, E.SIGNER_SPONSORSHIP_UPDATED, details)
