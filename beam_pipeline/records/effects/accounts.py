"""Effects of account operations: create_account, account_merge, inflation, set_options,
bump_sequence and manage_data.

Signer effects of set_options come from the account entry's before/after signer summaries (master
key included when its weight is non-zero), removed/updated first then created, each group sorted
by signer strkey, as stellar-etl does.
"""

from __future__ import annotations

import base64

from stellar_sdk import xdr

from beam_pipeline.records.changes.account_signers import signer_summary
from beam_pipeline.records.effects._common import Details, Effects, amount
from beam_pipeline.records.effects._common import EffectType as E
from beam_pipeline.records.operations.changes import Change
from beam_pipeline.util.accounts import account_id_address
from beam_pipeline.util.goformat import go_string

_OT = xdr.OperationType
_T = xdr.LedgerEntryType

# xdr.AccountFlags bits and the keys stellar-etl's setAuthFlagDetails writes for them.
_ACCOUNT_FLAGS = (
    (1, "auth_required_flag"),
    (2, "auth_revocable_flag"),
    (4, "auth_immutable_flag"),
    (8, "auth_clawback_enabled_flag"),
)
_DEFAULT_SIGNER_WEIGHT = 1


def create_account(fx: Effects) -> None:
    op = fx.ctx.op.body.create_account_op
    starting = amount(op.starting_balance)
    fx.add_account_id(op.destination, E.ACCOUNT_CREATED, {"starting_balance": starting})
    fx.add_source(E.ACCOUNT_DEBITED, {"asset_type": "native", "amount": starting})
    destination = account_id_address(op.destination)
    fx.add_account_id(op.destination, E.SIGNER_CREATED, {"public_key": destination, "weight": _DEFAULT_SIGNER_WEIGHT})


def account_merge(fx: Effects) -> None:
    destination = fx.ctx.op.body.destination
    result = fx.tr().account_merge_result
    details = {"amount": amount(result.source_account_balance), "asset_type": "native"}
    fx.add_source(E.ACCOUNT_DEBITED, details)
    fx.add_muxed(destination, E.ACCOUNT_CREDITED, details)
    fx.add_source(E.ACCOUNT_REMOVED, {})


def inflation(fx: Effects) -> None:
    for payout in fx.tr().inflation_result.payouts or []:
        fx.add_account_id(
            payout.destination, E.ACCOUNT_CREDITED, {"amount": amount(payout.amount), "asset_type": "native"}
        )


def _flag_details(details: Details, flags: int, value: bool) -> None:
    for bit, key in _ACCOUNT_FLAGS:
        if flags & bit:
            details[key] = value


def _signer_effects(fx: Effects, change: Change) -> None:
    before = signer_summary(change.pre.data.account)
    after = signer_summary(change.post.data.account)
    if before == after:
        return
    for key in sorted(before):
        if key not in after:
            fx.add_source(E.SIGNER_REMOVED, {"public_key": key})
        elif after[key] != before[key]:
            fx.add_source(E.SIGNER_UPDATED, {"public_key": key, "weight": after[key]})
    for key in sorted(after):
        if key not in before:
            fx.add_source(E.SIGNER_CREATED, {"public_key": key, "weight": after[key]})


def set_options(fx: Effects) -> None:
    op = fx.ctx.op.body.set_options_op
    if op.home_domain is not None:
        fx.add_source(E.ACCOUNT_HOME_DOMAIN_UPDATED, {"home_domain": go_string(op.home_domain.string32)})
    thresholds: Details = {}
    for key, value in (
        ("low_threshold", op.low_threshold),
        ("med_threshold", op.med_threshold),
        ("high_threshold", op.high_threshold),
    ):
        if value is not None:
            thresholds[key] = value.uint32
    if thresholds:
        fx.add_source(E.ACCOUNT_THRESHOLDS_UPDATED, thresholds)
    flags: Details = {}
    if op.set_flags is not None:
        _flag_details(flags, op.set_flags.uint32, True)
    if op.clear_flags is not None:
        _flag_details(flags, op.clear_flags.uint32, False)
    if flags:
        fx.add_source(E.ACCOUNT_FLAGS_UPDATED, flags)
    if op.inflation_dest is not None:
        fx.add_source(
            E.ACCOUNT_INFLATION_DESTINATION_UPDATED, {"inflation_destination": account_id_address(op.inflation_dest)}
        )
    for change in fx.changes:
        if change.type == _T.ACCOUNT:
            _signer_effects(fx, change)


def bump_sequence(fx: Effects) -> None:
    for change in fx.changes:
        if change.type != _T.ACCOUNT:
            continue
        before = change.pre.data.account.seq_num.sequence_number.int64
        after = change.post.data.account.seq_num.sequence_number.int64
        if before != after:
            fx.add_source(E.SEQUENCE_BUMPED, {"new_seq": after})
        break


def manage_data(fx: Effects) -> None:
    op = fx.ctx.op.body.manage_data_op
    details: Details = {"name": go_string(op.data_name.string64)}
    # stellar-etl starts from effect type 0 (account_created) and keeps it when no data entry changed.
    effect = E.ACCOUNT_CREATED
    for change in fx.changes:
        if change.type != _T.DATA:
            continue
        if change.post is not None:
            details["value"] = base64.b64encode(change.post.data.data.data_value.data_value).decode("ascii")
        if change.pre is None:
            effect = E.DATA_CREATED
        elif change.post is None:
            effect = E.DATA_REMOVED
        else:
            effect = E.DATA_UPDATED
        break
    fx.add_source(effect, details)


EFFECTS = {
    _OT.CREATE_ACCOUNT: create_account,
    _OT.ACCOUNT_MERGE: account_merge,
    _OT.INFLATION: inflation,
    _OT.SET_OPTIONS: set_options,
    _OT.BUMP_SEQUENCE: bump_sequence,
    _OT.MANAGE_DATA: manage_data,
}
