"""Details of account-level operations: create_account, set_options, account_merge, inflation,
manage_data and bump_sequence."""

from __future__ import annotations

import base64

from stellar_sdk import xdr

from beam_pipeline.records.operations._common import Details, OpContext, add_account, flag_lists, stroops_to_real
from beam_pipeline.util.accounts import account_id_address, signer_key_address
from beam_pipeline.util.assets import go_string

_OT = xdr.OperationType

# Account flags in the order stellar-etl lists them.
ACCOUNT_FLAGS = [
    (1, "auth_required"),
    (2, "auth_revocable"),
    (4, "auth_immutable"),
    (8, "auth_clawback_enabled"),
]


def create_account(ctx: OpContext) -> Details:
    op = ctx.op.body.create_account_op
    details: Details = {}
    add_account(details, ctx.source, "funder")
    details["account"] = account_id_address(op.destination)
    details["starting_balance"] = stroops_to_real(op.starting_balance.int64)
    return details


def _add_flags(details: Details, flags: xdr.Uint32 | None, prefix: str) -> None:
    """``<prefix>_flags`` / ``<prefix>_flags_s``, only when some flag bit is set (empty lists if unnamed)."""
    if flags is None or flags.uint32 <= 0:
        return
    numbers, names = flag_lists(flags.uint32, ACCOUNT_FLAGS)
    details[f"{prefix}_flags"] = numbers
    details[f"{prefix}_flags_s"] = names


def set_options(ctx: OpContext) -> Details:
    op = ctx.op.body.set_options_op
    details: Details = {}
    if op.inflation_dest is not None:
        details["inflation_dest"] = account_id_address(op.inflation_dest)
    _add_flags(details, op.set_flags, "set")
    _add_flags(details, op.clear_flags, "clear")
    for key, value in (
        ("master_key_weight", op.master_weight),
        ("low_threshold", op.low_threshold),
        ("med_threshold", op.med_threshold),
        ("high_threshold", op.high_threshold),
    ):
        if value is not None:
            details[key] = value.uint32
    if op.home_domain is not None:
        details["home_domain"] = go_string(op.home_domain.string32)
    if op.signer is not None:
        details["signer_key"] = signer_key_address(op.signer.key)
        details["signer_weight"] = op.signer.weight.uint32
    return details


def account_merge(ctx: OpContext) -> Details:
    details: Details = {}
    add_account(details, ctx.source, "account")
    add_account(details, ctx.op.body.destination, "into")
    return details


def inflation(ctx: OpContext) -> Details:
    """Inflation carries no parameters; its details are empty (plus a sponsor, never present)."""
    return {}


def manage_data(ctx: OpContext) -> Details:
    op = ctx.op.body.manage_data_op
    value = op.data_value
    return {
        "name": go_string(op.data_name.string64),
        "value": None if value is None else base64.b64encode(value.data_value).decode("ascii"),
    }


def bump_sequence(ctx: OpContext) -> Details:
    # stellar-etl prints the target sequence as a decimal string, not a number.
    return {"bump_to": str(ctx.op.body.bump_sequence_op.bump_to.sequence_number.int64)}


DETAILS = {
    _OT.CREATE_ACCOUNT: create_account,
    _OT.SET_OPTIONS: set_options,
    _OT.ACCOUNT_MERGE: account_merge,
    _OT.INFLATION: inflation,
    _OT.MANAGE_DATA: manage_data,
    _OT.BUMP_SEQUENCE: bump_sequence,
}
