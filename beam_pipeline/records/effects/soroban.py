"""Effects of Soroban operations: invoke_host_function (from Stellar Asset Contract events),
extend_footprint_ttl and restore_footprint.

Only SAC ``transfer``, ``mint``, ``clawback`` and ``burn`` events count, recognised the way the Go
SDK's ``contractevents`` package (v0.5.0, which stellar-etl pins) does — the parser is the one the
operations table uses for ``asset_balance_changes``: a contract event whose last topic is the SEP-11 asset
string of the asset whose SAC id (on this network) is the emitting contract. transfer/mint/clawback
need exactly four topics (``[name, addr, addr, asset]``) and burn three, with an i128 amount as
data; anything else is ignored. So CAP-67's three-topic ``mint``/``clawback`` (protocol 23+) and
transfers whose data is a map (muxed destinations) give no effect, exactly as in stellar-etl. A
``G...`` party gets ``account_credited``/``debited``; any other address (contract, muxed ...) gives
``contract_credited``/``debited`` on the operation's source with the address under ``contract``.
"""

from __future__ import annotations

import base64

from stellar_sdk import StrKey, xdr

from beam_pipeline.records.effects._common import Details, Effects
from beam_pipeline.records.effects._common import EffectType as E
from beam_pipeline.records.operations.soroban import sac_balance_change

_OT = xdr.OperationType
_T = xdr.LedgerEntryType


def _is_soroban(fx: Effects) -> bool:
    env = fx.ctx.tx.envelope
    if env.type == xdr.EnvelopeType.ENVELOPE_TYPE_TX:
        return env.v1.tx.ext.v == 1
    if env.type == xdr.EnvelopeType.ENVELOPE_TYPE_TX_FEE_BUMP:
        return env.fee_bump.tx.inner_tx.v1.tx.ext.v == 1
    return False


def operation_events(fx: Effects) -> list[xdr.ContractEvent]:
    """The Go SDK's ``GetContractEvents``: a Soroban transaction's contract events (of its one operation)."""
    if not _is_soroban(fx):
        raise fx.ctx.error("invoke_host_function in a transaction without Soroban data")
    meta = fx.ctx.tx.meta
    if meta.v == 3:
        return [] if meta.v3.soroban_meta is None else list(meta.v3.soroban_meta.events)
    if meta.v == 4:
        return list(meta.v4.operations[0].events) if meta.v4.operations else []
    return []


def _party(fx: Effects, address: str, details: Details, account_effect: E, contract_effect: E) -> None:
    if StrKey.is_valid_ed25519_public_key(address):
        fx.add(address, account_effect, details)
    else:
        details["contract"] = address
        fx.add_source(contract_effect, details)


def invoke_host_function(fx: Effects) -> None:
    for event in operation_events(fx):
        change = sac_balance_change(event, fx.ctx.ledger.network_passphrase)
        if change is None:
            continue
        details: Details = {k: v for k, v in change.items() if k.startswith("asset_")}
        details["contract_event_type"] = change["type"]
        details["amount"] = change["amount"]
        to_details = dict(details)
        if "from" in change:
            _party(fx, change["from"], details, E.ACCOUNT_DEBITED, E.CONTRACT_DEBITED)
        if "to" in change:
            _party(fx, change["to"], to_details, E.ACCOUNT_CREDITED, E.CONTRACT_CREDITED)


def _ttl_keys(fx: Effects) -> list[str]:
    """Base64 TTL ledger keys of the entries the operation touched (every change must have a post state)."""
    entries = []
    for change in fx.changes:
        if change.post is None:
            raise fx.ctx.error("footprint operation removed a ledger entry")
        if change.post.data.type != _T.TTL:
            continue
        key = xdr.LedgerKey(_T.TTL, ttl=xdr.LedgerKeyTtl(change.post.data.ttl.key_hash))
        entries.append(base64.b64encode(key.to_xdr_bytes()).decode("ascii"))
    return entries


def extend_footprint_ttl(fx: Effects) -> None:
    op = fx.ctx.op.body.extend_footprint_ttl_op
    fx.add_source(E.EXTEND_FOOTPRINT_TTL, {"entries": _ttl_keys(fx), "extend_to": op.extend_to.uint32})


def restore_footprint(fx: Effects) -> None:
    fx.add_source(E.RESTORE_FOOTPRINT, {"entries": _ttl_keys(fx)})


EFFECTS = {
    _OT.INVOKE_HOST_FUNCTION: invoke_host_function,
    _OT.EXTEND_FOOTPRINT_TTL: extend_footprint_ttl,
    _OT.RESTORE_FOOTPRINT: restore_footprint,
}
