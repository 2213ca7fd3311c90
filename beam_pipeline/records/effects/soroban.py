"""Effects of Soroban operations: invoke_host_function (from Stellar Asset Contract events),
extend_footprint_ttl and restore_footprint.

Only SAC ``transfer``, ``mint``, ``clawback`` and ``burn`` events count, recognised the way the Go
SDK's ``contractevents`` package does: a contract event whose last topic is the SEP-11 asset
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

from beam_pipeline.records.effects._common import Details, Effects, add_asset, amount128
from beam_pipeline.records.effects._common import EffectType as E
from beam_pipeline.util.assets import asset_contract_id
from beam_pipeline.util.scval import sc_address_strkey

_OT = xdr.OperationType
_SC = xdr.SCValType
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


def _parse_asset(text: bytes) -> xdr.Asset | None:
    """Go's ``parseCanonicalAsset``: ``native`` or ``CODE:G...`` (code length in bytes); None otherwise."""
    if text == b"native":
        return xdr.Asset(xdr.AssetType.ASSET_TYPE_NATIVE)
    parts = text.split(b":")
    if len(parts) != 2:
        return None
    code, issuer = parts
    try:
        issuer_key = StrKey.decode_ed25519_public_key(issuer.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        return None
    issuer_id = xdr.AccountID(xdr.PublicKey(xdr.PublicKeyType.PUBLIC_KEY_TYPE_ED25519, ed25519=xdr.Uint256(issuer_key)))
    if len(code) <= 4:
        return xdr.Asset(
            xdr.AssetType.ASSET_TYPE_CREDIT_ALPHANUM4,
            alpha_num4=xdr.AlphaNum4(xdr.AssetCode4(code.ljust(4, b"\0")), issuer_id),
        )
    if len(code) <= 12:
        return xdr.Asset(
            xdr.AssetType.ASSET_TYPE_CREDIT_ALPHANUM12,
            alpha_num12=xdr.AlphaNum12(xdr.AssetCode12(code.ljust(12, b"\0")), issuer_id),
        )
    return None


def sac_event(event: xdr.ContractEvent, passphrase: str) -> tuple[str, xdr.Asset, list[str], xdr.Int128Parts] | None:
    """(name, asset, addresses, amount) of a Stellar Asset Contract balance event, None for other events.

    The addresses are the event's address topics: (from, to) for transfer, (admin, to) for mint,
    (admin, from) for clawback, (from,) for burn.
    """
    if event.type != xdr.ContractEventType.CONTRACT or event.contract_id is None or event.body.v != 0:
        return None
    topics, data = event.body.v0.topics, event.body.v0.data
    if len(topics) <= 2 or topics[0].type != _SC.SCV_SYMBOL:
        return None
    name = topics[0].sym.sc_symbol.decode("utf-8", "replace")
    if name not in ("transfer", "mint", "clawback", "burn"):
        return None
    last = topics[-1]
    if last.type != _SC.SCV_STRING or not last.str.sc_string:
        return None
    asset = _parse_asset(last.str.sc_string)
    if asset is None or asset_contract_id(asset, passphrase) != event.contract_id.contract_id.hash:
        return None
    wanted = 3 if name == "burn" else 4
    if len(topics) != wanted or data.type != _SC.SCV_I128:
        return None
    parties = topics[1:-1]
    if any(t.type != _SC.SCV_ADDRESS for t in parties):
        return None
    try:
        addresses = [sc_address_strkey(t.address) for t in parties]
    except ValueError:  # an address arm the Go SDK cannot print either: not a balance event
        return None
    return name, asset, addresses, data.i128


def _party(fx: Effects, address: str, details: Details, account_effect: E, contract_effect: E) -> None:
    if StrKey.is_valid_ed25519_public_key(address):
        fx.add(address, account_effect, details)
    else:
        details["contract"] = address
        fx.add_source(contract_effect, details)


def invoke_host_function(fx: Effects) -> None:
    for event in operation_events(fx):
        parsed = sac_event(event, fx.ctx.ledger.network_passphrase)
        if parsed is None:
            continue
        name, asset, parties, value = parsed
        details: Details = {}
        add_asset(details, asset)
        details["contract_event_type"] = name
        details["amount"] = amount128(value)
        if name == "transfer":
            to_details = dict(details)
            _party(fx, parties[0], details, E.ACCOUNT_DEBITED, E.CONTRACT_DEBITED)
            _party(fx, parties[1], to_details, E.ACCOUNT_CREDITED, E.CONTRACT_CREDITED)
        elif name == "mint":
            _party(fx, parties[1], details, E.ACCOUNT_CREDITED, E.CONTRACT_CREDITED)
        elif name == "clawback":
            _party(fx, parties[1], details, E.ACCOUNT_DEBITED, E.CONTRACT_DEBITED)
        else:
            _party(fx, parties[0], details, E.ACCOUNT_DEBITED, E.CONTRACT_DEBITED)


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
