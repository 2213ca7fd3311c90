"""Soroban values (``SCVal``) as JSON, in the exact form stellar-etl writes to its ``*_decoded`` columns.

stellar-etl does not render ScVals itself: it hands the XDR to ``go-stellar-xdr-json``, a binding of the
Rust ``stellar-xdr`` crate's serde JSON (crate 23.0.0 when the contract-events golden was made, 27.0.0
at the time of writing; the ScVal rendering is the same in both). Reproducing that serde form is the
only way to match Hubble's ``topics_decoded`` / ``data_decoded`` field for field, so this module
implements it rather than inventing a "nicer" one. The form is lossless (every value can be read back
to the same XDR) and JSON-safe (no number needs more than 53 bits):

============================  ===============================================================
SCVal arm                     JSON value
============================  ===============================================================
bool                          ``{"bool": true}``
void                          ``"void"`` (a bare string: serde's unit variant)
error                         ``{"error": {"contract": 7}}`` or ``{"error": {"auth": "invalid_action"}}``
u32 / i32                     ``{"u32": 5}`` (a JSON number: always exact)
u64 / i64                     ``{"u64": "18446744073709551615"}`` (decimal string)
timepoint / duration          ``{"timepoint": "1719250080"}`` (decimal string)
u128 / i128 / u256 / i256     ``{"i128": "-170141183460469231731687303715884105728"}`` (decimal string)
bytes                         ``{"bytes": "7ae9d786..."}`` (lowercase hex)
string / symbol               ``{"string": "..."}`` / ``{"symbol": "..."}``, bytes escaped as below
vec                           ``{"vec": [...]}``; ``{"vec": null}`` for an absent vector
map                           ``{"map": [{"key": ..., "val": ...}, ...]}`` in XDR order; ``{"map": null}``
address                       ``{"address": "G..."}``: strkey ``G`` account, ``C`` contract, ``M`` muxed
                              account, ``B`` claimable balance, ``L`` liquidity pool
contract_instance             ``{"contract_instance": {"executable": "stellar_asset" | {"wasm": hex},
                              "storage": <map entries or null>}}``
ledger_key_contract_instance  ``"ledger_key_contract_instance"``
ledger_key_nonce              ``{"ledger_key_nonce": {"nonce": "-5"}}`` (decimal string)
============================  ===============================================================

Strings and symbols are arbitrary bytes on the wire, so the crate escapes them byte by byte: NUL,
tab, line feed and carriage return become ``\\0``, ``\\t``, ``\\n``, ``\\r``; a backslash becomes
``\\\\``; printable ASCII (0x20..0x7e) is kept; every other byte (including each byte of a multi-byte
UTF-8 character) becomes ``\\xNN`` in lowercase hex. So ``"é"`` renders as the six characters
``\\xc3\\xa9``: that is what Hubble holds, and it is reversible, which decoding as UTF-8 would not be.

`json_text` turns such values into the text stellar-etl writes: Go's ``encoding/json`` after a
round trip through ``map[string]interface{}``, i.e. compact, object keys sorted, and ``<``, ``>``,
``&`` escaped as ``\\u003c``, ``\\u003e``, ``\\u0026``.

Arms the Rust crate stellar-etl links does not know (``SCV_EXECUTABLE_TAG`` and the external-ref
contract executable, present in newer XDR) raise `ScValError`: stellar-etl cannot render them either.
"""

from __future__ import annotations

import json

from stellar_sdk import StrKey, xdr

from beam_pipeline.util.strkey import account_strkey, contract_strkey

JsonValue = None | bool | int | str | list["JsonValue"] | dict[str, "JsonValue"]

_T = xdr.SCValType

_ERROR_TYPE_NAMES = {
    xdr.SCErrorType.SCE_CONTRACT: "contract",
    xdr.SCErrorType.SCE_WASM_VM: "wasm_vm",
    xdr.SCErrorType.SCE_CONTEXT: "context",
    xdr.SCErrorType.SCE_STORAGE: "storage",
    xdr.SCErrorType.SCE_OBJECT: "object",
    xdr.SCErrorType.SCE_CRYPTO: "crypto",
    xdr.SCErrorType.SCE_EVENTS: "events",
    xdr.SCErrorType.SCE_BUDGET: "budget",
    xdr.SCErrorType.SCE_VALUE: "value",
    xdr.SCErrorType.SCE_AUTH: "auth",
}

_ERROR_CODE_NAMES = {
    xdr.SCErrorCode.SCEC_ARITH_DOMAIN: "arith_domain",
    xdr.SCErrorCode.SCEC_INDEX_BOUNDS: "index_bounds",
    xdr.SCErrorCode.SCEC_INVALID_INPUT: "invalid_input",
    xdr.SCErrorCode.SCEC_MISSING_VALUE: "missing_value",
    xdr.SCErrorCode.SCEC_EXISTING_VALUE: "existing_value",
    xdr.SCErrorCode.SCEC_EXCEEDED_LIMIT: "exceeded_limit",
    xdr.SCErrorCode.SCEC_INVALID_ACTION: "invalid_action",
    xdr.SCErrorCode.SCEC_INTERNAL_ERROR: "internal_error",
    xdr.SCErrorCode.SCEC_UNEXPECTED_TYPE: "unexpected_type",
    xdr.SCErrorCode.SCEC_UNEXPECTED_SIZE: "unexpected_size",
}

# escape-bytes' table: the four named control escapes and the backslash; the rest of 0x20..0x7e
# passes through and every other byte is hex-escaped.
_BYTE_ESCAPES = {0x00: "\\0", 0x09: "\\t", 0x0A: "\\n", 0x0D: "\\r", 0x5C: "\\\\"}
_ESCAPED_BYTE = [_BYTE_ESCAPES.get(b, chr(b) if 0x20 <= b <= 0x7E else f"\\x{b:02x}") for b in range(256)]


# Characters Go's encoding/json escapes although JSON does not require it.
_GO_ESCAPES = (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029"))


class ScValError(ValueError):
    """An SCVal that has no stellar-etl JSON rendering (an arm unknown to its XDR library)."""


def escape_bytes(data: bytes) -> str:
    """Renders string/symbol bytes the way the Rust XDR crate does (see the module docstring)."""
    return "".join(_ESCAPED_BYTE[b] for b in data)


def _u128(hi: int, lo: int) -> int:
    return (hi << 64) | lo


def _u256(hi_hi: int, hi_lo: int, lo_hi: int, lo_lo: int) -> int:
    return (hi_hi << 192) | (hi_lo << 128) | (lo_hi << 64) | lo_lo


def sc_address_strkey(address: xdr.SCAddress) -> str:
    """The strkey of any SCAddress arm (``G``, ``C``, ``M``, ``B`` or ``L``)."""
    t = address.type
    if t == xdr.SCAddressType.SC_ADDRESS_TYPE_ACCOUNT:
        return account_strkey(address.account_id.account_id.ed25519.uint256)
    if t == xdr.SCAddressType.SC_ADDRESS_TYPE_CONTRACT:
        return contract_strkey(address.contract_id.contract_id.hash)
    if t == xdr.SCAddressType.SC_ADDRESS_TYPE_MUXED_ACCOUNT:
        muxed = address.muxed_account
        return StrKey.encode_med25519_public_key(muxed.ed25519.uint256 + muxed.id.uint64.to_bytes(8, "big"))
    if t == xdr.SCAddressType.SC_ADDRESS_TYPE_CLAIMABLE_BALANCE:
        balance_id = address.claimable_balance_id
        if balance_id.type != xdr.ClaimableBalanceIDType.CLAIMABLE_BALANCE_ID_TYPE_V0:
            raise ScValError(f"unsupported claimable balance id type {balance_id.type.name}")
        # The B... payload is the one-byte id type followed by the hash (SEP-23).
        return StrKey.encode_claimable_balance(b"\x00" + balance_id.v0.hash)
    if t == xdr.SCAddressType.SC_ADDRESS_TYPE_LIQUIDITY_POOL:
        return StrKey.encode_liquidity_pool(address.liquidity_pool_id.pool_id.hash)
    raise ScValError(f"unsupported SCAddress type {t.name}")


def _error(err: xdr.SCError) -> dict[str, JsonValue]:
    name = _ERROR_TYPE_NAMES.get(err.type)
    if name is None:
        raise ScValError(f"unsupported SCError type {err.type.name}")
    if err.type == xdr.SCErrorType.SCE_CONTRACT:
        return {name: err.contract_code.uint32}
    code = _ERROR_CODE_NAMES.get(err.code)
    if code is None:
        raise ScValError(f"unsupported SCErrorCode {err.code.name}")
    return {name: code}


def _map_entries(sc_map: xdr.SCMap | None) -> list[JsonValue] | None:
    if sc_map is None:
        return None
    return [{"key": scval_to_json(e.key), "val": scval_to_json(e.val)} for e in sc_map.sc_map]


def _executable(executable: xdr.ContractExecutable) -> JsonValue:
    t = executable.type
    if t == xdr.ContractExecutableType.CONTRACT_EXECUTABLE_WASM:
        return {"wasm": executable.wasm_hash.hash.hex()}
    if t == xdr.ContractExecutableType.CONTRACT_EXECUTABLE_STELLAR_ASSET:
        return "stellar_asset"
    raise ScValError(f"contract executable type {t.name} has no stellar-etl JSON rendering")


def scval_to_json(val: xdr.SCVal) -> JsonValue:
    """One SCVal as stellar-etl's decoded JSON value (a plain, JSON-serialisable Python value).

    Raises:
        ScValError: for arms stellar-etl's XDR library cannot render.
    """
    t = val.type
    if t == _T.SCV_BOOL:
        return {"bool": val.b}
    if t == _T.SCV_VOID:
        return "void"
    if t == _T.SCV_ERROR:
        return {"error": _error(val.error)}
    if t == _T.SCV_U32:
        return {"u32": val.u32.uint32}
    if t == _T.SCV_I32:
        return {"i32": val.i32.int32}
    if t == _T.SCV_U64:
        return {"u64": str(val.u64.uint64)}
    if t == _T.SCV_I64:
        return {"i64": str(val.i64.int64)}
    if t == _T.SCV_TIMEPOINT:
        return {"timepoint": str(val.timepoint.time_point.uint64)}
    if t == _T.SCV_DURATION:
        return {"duration": str(val.duration.duration.uint64)}
    if t == _T.SCV_U128:
        p = val.u128
        return {"u128": str(_u128(p.hi.uint64, p.lo.uint64))}
    if t == _T.SCV_I128:
        p = val.i128
        return {"i128": str(_u128(p.hi.int64, p.lo.uint64))}
    if t == _T.SCV_U256:
        p = val.u256
        return {"u256": str(_u256(p.hi_hi.uint64, p.hi_lo.uint64, p.lo_hi.uint64, p.lo_lo.uint64))}
    if t == _T.SCV_I256:
        p = val.i256
        return {"i256": str(_u256(p.hi_hi.int64, p.hi_lo.uint64, p.lo_hi.uint64, p.lo_lo.uint64))}
    if t == _T.SCV_BYTES:
        return {"bytes": val.bytes.sc_bytes.hex()}
    if t == _T.SCV_STRING:
        return {"string": escape_bytes(val.str.sc_string)}
    if t == _T.SCV_SYMBOL:
        return {"symbol": escape_bytes(val.sym.sc_symbol)}
    if t == _T.SCV_VEC:
        return {"vec": None if val.vec is None else [scval_to_json(v) for v in val.vec.sc_vec]}
    if t == _T.SCV_MAP:
        return {"map": _map_entries(val.map)}
    if t == _T.SCV_ADDRESS:
        return {"address": sc_address_strkey(val.address)}
    if t == _T.SCV_CONTRACT_INSTANCE:
        inst = val.instance
        return {
            "contract_instance": {"executable": _executable(inst.executable), "storage": _map_entries(inst.storage)}
        }
    if t == _T.SCV_LEDGER_KEY_CONTRACT_INSTANCE:
        return "ledger_key_contract_instance"
    if t == _T.SCV_LEDGER_KEY_NONCE:
        return {"ledger_key_nonce": {"nonce": str(val.nonce_key.nonce.int64)}}
    raise ScValError(f"SCVal type {t.name} has no stellar-etl JSON rendering")


def json_text(value: JsonValue) -> str:
    """`value` as the JSON text Go's ``encoding/json`` writes for it in stellar-etl's output.

    Compact separators, keys sorted (stellar-etl re-marshals every row through a Go map, which sorts
    keys at every depth), non-ASCII kept as UTF-8, and Go's HTML-safe escaping of ``<``, ``>``, ``&``
    plus its escaping of U+2028 and U+2029. These characters can only occur inside JSON strings, so
    replacing them in the text is exact.
    """
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    for char, escaped in _GO_ESCAPES:
        text = text.replace(char, escaped)
    return text
