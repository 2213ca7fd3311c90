"""Details of Soroban operations: invoke_host_function, extend_footprint_ttl and restore_footprint.

Besides the operation itself, stellar-etl reads the transaction's Soroban footprint (ledger key
hashes and the first contract id in it) and, for contract invocations, the Stellar Asset
Contract balance changes found in the transaction's *diagnostic* events.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from stellar_sdk import StrKey, xdr

from beam_pipeline.records.operations._common import Details, OpContext, go_enum_name, rat_float_string
from beam_pipeline.records.operations.scval_text import ARM_NAMES, scval_text
from beam_pipeline.util.assets import asset_contract_id, canonical_asset, extract_asset
from beam_pipeline.util.scval import sc_address_strkey, scval_to_json
from beam_pipeline.xdr.fast import xdr_bytes

_OT = xdr.OperationType
_HF = xdr.HostFunctionType
_SAC_EVENTS = {b"transfer", b"mint", b"clawback", b"burn"}


def _soroban_data(ctx: OpContext) -> xdr.SorobanTransactionData:
    inner = ctx.tx.inner_envelope
    ext = getattr(inner.tx, "ext", None)
    if isinstance(inner, xdr.TransactionV0Envelope) or ext is None or ext.v != 1 or ext.soroban_data is None:
        raise ctx.error("Soroban operation in a transaction without Soroban data")
    return ext.soroban_data


def _footprint_details(ctx: OpContext, details: Details, with_contract_id: bool) -> None:
    """``ledger_key_hash`` (read-only then read-write keys), optionally ``contract_id``, and a null
    ``contract_code_hash`` (stellar-etl never fills it)."""
    footprint = _soroban_data(ctx).resources.footprint
    hashes = [hashlib.sha256(xdr_bytes(k)).hexdigest() for k in [*footprint.read_only, *footprint.read_write]]
    details["ledger_key_hash"] = hashes or None
    if with_contract_id:
        details["contract_id"] = _footprint_contract_id(footprint)
    details["contract_code_hash"] = None


def _footprint_contract_id(footprint: xdr.LedgerFootprint) -> str:
    """The first contract-data key's contract (read-write keys first), or "" if none."""
    for key in [*footprint.read_write, *footprint.read_only]:
        if key.type != xdr.LedgerEntryType.CONTRACT_DATA:
            continue
        contract = key.contract_data.contract
        if contract.type == xdr.SCAddressType.SC_ADDRESS_TYPE_CONTRACT:
            return StrKey.encode_contract(contract.contract_id.contract_id.hash)
    return ""


def _parameters(details: Details, args: list[xdr.SCVal]) -> None:
    """The four renderings stellar-etl stores for contract arguments.

    ``parameters``/``parameters_decoded`` pair each value's Go arm name with its base64 XDR or
    its Go ``String()``; ``parameters_json``/``parameters_json_decoded`` hold the base64 XDR and
    the serde JSON form.
    """
    params, decoded, as_json, as_json_decoded = [], [], [], []
    for arg in args:
        arm = ARM_NAMES.get(arg.type)
        raw = base64.b64encode(xdr_bytes(arg)).decode("ascii")
        if arm is None:  # an arm Go's XDR library does not know
            params.append({"type": "n/a", "value": "n/a"})
            decoded.append({"type": "n/a", "value": "n/a"})
            as_json.append("n/a")
            as_json_decoded.append("n/a")
            continue
        params.append({"type": arm, "value": raw})
        decoded.append({"type": arm, "value": scval_text(arg)})
        as_json.append(raw)
        as_json_decoded.append(scval_to_json(arg))
    details["parameters"] = params
    details["parameters_decoded"] = decoded
    details["parameters_json"] = as_json
    details["parameters_json_decoded"] = as_json_decoded


def _preimage_details(details: Details, preimage: xdr.ContractIDPreimage) -> None:
    if preimage.type == xdr.ContractIDPreimageType.CONTRACT_ID_PREIMAGE_FROM_ADDRESS:
        details["from"] = "address"
        details["address"] = sc_address_strkey(preimage.from_address.address)
    elif preimage.type == xdr.ContractIDPreimageType.CONTRACT_ID_PREIMAGE_FROM_ASSET:
        details["from"] = "asset"
        details["asset"] = canonical_asset(preimage.from_asset)
    else:
        raise ValueError(f"unknown contract id preimage type {preimage.type}")


# --- Stellar Asset Contract balance changes -------------------------------------------------------


def _diagnostic_events(ctx: OpContext) -> list[xdr.DiagnosticEvent]:
    meta = ctx.tx.meta
    if meta.v in (1, 2):
        return []
    if meta.v == 3:
        soroban = meta.v3.soroban_meta
        return [] if soroban is None else list(soroban.diagnostic_events)
    if meta.v == 4:
        return list(meta.v4.diagnostic_events)
    raise ctx.error(f"TransactionMeta v{meta.v} has no diagnostic events")


def _parse_canonical_asset(text: bytes) -> xdr.Asset | None:
    """A SEP-11 ``native`` / ``CODE:ISSUER`` asset string, or None if it is not one."""
    if text == b"native":
        return xdr.Asset(xdr.AssetType.ASSET_TYPE_NATIVE)
    parts = text.split(b":")
    if len(parts) != 2:
        return None
    code, issuer_text = parts
    try:
        issuer_key = StrKey.decode_ed25519_public_key(issuer_text.decode("ascii"))
    except Exception:  # any malformed issuer means "not a SAC event", as in stellar-etl
        return None
    issuer = xdr.AccountID(xdr.PublicKey(xdr.PublicKeyType.PUBLIC_KEY_TYPE_ED25519, xdr.Uint256(issuer_key)))
    if len(code) <= 4:
        t = xdr.AssetType.ASSET_TYPE_CREDIT_ALPHANUM4
        return xdr.Asset(t, alpha_num4=xdr.AlphaNum4(xdr.AssetCode4(code.ljust(4, b"\x00")), issuer))
    if len(code) <= 12:
        t = xdr.AssetType.ASSET_TYPE_CREDIT_ALPHANUM12
        return xdr.Asset(t, alpha_num12=xdr.AlphaNum12(xdr.AssetCode12(code.ljust(12, b"\x00")), issuer))
    return None


def _address(val: xdr.SCVal) -> str | None:
    return sc_address_strkey(val.address) if val.type == xdr.SCValType.SCV_ADDRESS else None


def _i128(val: xdr.SCVal) -> int | None:
    if val.type != xdr.SCValType.SCV_I128:
        return None
    return (val.i128.hi.int64 << 64) | val.i128.lo.uint64


def sac_balance_change(event: xdr.ContractEvent, network_passphrase: str) -> dict[str, Any] | None:
    """One ``asset_balance_changes`` entry for a SAC transfer/mint/clawback/burn event, else None.

    Follows the Go SDK's ``contractevents`` parser: the last topic must name an asset whose SAC
    id equals the emitting contract, transfer/mint/clawback need 4 topics (fn, addr, addr,
    asset), burn 3, and the data must be an i128 amount. Events in other shapes (such as
    protocol 23's 3-topic mint, or a map-valued transfer amount) are not balance changes to it.
    """
    if event.type != xdr.ContractEventType.CONTRACT or event.contract_id is None or event.body.v != 0:
        return None
    topics, data = event.body.v0.topics, event.body.v0.data
    if len(topics) <= 2 or topics[0].type != xdr.SCValType.SCV_SYMBOL:
        return None
    fn = topics[0].sym.sc_symbol
    if fn not in _SAC_EVENTS:
        return None
    last = topics[-1]
    if last.type != xdr.SCValType.SCV_STRING or not last.str.sc_string:
        return None
    asset = _parse_canonical_asset(last.str.sc_string)
    if asset is None or asset_contract_id(asset, network_passphrase) != event.contract_id.contract_id.hash:
        return None
    amount = _i128(data)
    if fn == b"burn":
        if len(topics) != 3:
            return None
        source, dest = _address(topics[1]), None
        if source is None:
            return None
    else:
        if len(topics) != 4:
            return None
        first, second = _address(topics[1]), _address(topics[2])
        if first is None or second is None:
            return None
        source, dest = {b"transfer": (first, second), b"mint": (None, second), b"clawback": (second, None)}[fn]
    if amount is None:
        return None
    change: dict[str, Any] = {}
    if source:
        change["from"] = source
    if dest:
        change["to"] = dest
    change["type"] = fn.decode("ascii")
    change["amount"] = rat_float_string(amount, 10_000_000)
    kind, code, issuer = extract_asset(asset)
    change["asset_type"] = kind
    if asset.type != xdr.AssetType.ASSET_TYPE_NATIVE:
        change["asset_code"] = code
        change["asset_issuer"] = issuer
    return change


def asset_balance_changes(ctx: OpContext) -> list[dict[str, Any]]:
    changes = []
    for diag in _diagnostic_events(ctx):
        if not diag.in_successful_contract_call or diag.event.type != xdr.ContractEventType.CONTRACT:
            continue
        change = sac_balance_change(diag.event, ctx.ledger.network_passphrase)
        if change is not None:
            changes.append(change)
    return changes


# --- operations -----------------------------------------------------------------------------------


def invoke_host_function(ctx: OpContext) -> Details:
    fn = ctx.op.body.invoke_host_function_op.host_function
    details: Details = {"function": go_enum_name(fn.type)}
    if fn.type == _HF.HOST_FUNCTION_TYPE_INVOKE_CONTRACT:
        call = fn.invoke_contract
        details["type"] = "invoke_contract"
        _footprint_details(ctx, details, with_contract_id=False)
        details["contract_id"] = sc_address_strkey(call.contract_address)
        args = [
            xdr.SCVal(xdr.SCValType.SCV_ADDRESS, address=call.contract_address),
            xdr.SCVal(xdr.SCValType.SCV_SYMBOL, sym=call.function_name),
            *call.args,
        ]
        _parameters(details, args)
        details["asset_balance_changes"] = asset_balance_changes(ctx)
    elif fn.type == _HF.HOST_FUNCTION_TYPE_CREATE_CONTRACT:
        details["type"] = "create_contract"
        _footprint_details(ctx, details, with_contract_id=True)
        _preimage_details(details, fn.create_contract.contract_id_preimage)
    elif fn.type == _HF.HOST_FUNCTION_TYPE_UPLOAD_CONTRACT_WASM:
        details["type"] = "upload_wasm"
        _footprint_details(ctx, details, with_contract_id=False)
    elif fn.type == _HF.HOST_FUNCTION_TYPE_CREATE_CONTRACT_V2:
        args_v2 = fn.create_contract_v2
        details["type"] = "create_contract_v2"
        _footprint_details(ctx, details, with_contract_id=True)
        _parameters(details, args_v2.constructor_args)
        _preimage_details(details, args_v2.contract_id_preimage)
    else:
        raise ctx.error(f"unknown host function type {fn.type}")
    return details


def extend_footprint_ttl(ctx: OpContext) -> Details:
    details: Details = {
        "type": "extend_footprint_ttl",
        "extend_to": ctx.op.body.extend_footprint_ttl_op.extend_to.uint32,
    }
    _footprint_details(ctx, details, with_contract_id=True)
    return details


def restore_footprint(ctx: OpContext) -> Details:
    details: Details = {"type": "restore_footprint"}
    _footprint_details(ctx, details, with_contract_id=True)
    return details


DETAILS = {
    _OT.INVOKE_HOST_FUNCTION: invoke_host_function,
    _OT.EXTEND_FOOTPRINT_TTL: extend_footprint_ttl,
    _OT.RESTORE_FOOTPRINT: restore_footprint,
}
