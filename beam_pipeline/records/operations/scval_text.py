"""Soroban values as Go's ``xdr.ScVal.String()`` prints them (stellar-etl's ``parameters_decoded``).

This is a human-oriented, lossy rendering distinct from the serde JSON form of
`beam_pipeline.util.scval` (``parameters_json_decoded``): numbers in decimal, bytes in hex,
strings raw, vectors as ``[a b]``, maps as ``[{k v} ...]`` (Go's ``fmt`` of slices and
structs), timepoints as Go ``time.Time`` strings in UTC.
"""

from __future__ import annotations

from stellar_sdk import xdr

from beam_pipeline.records.operations._common import go_enum_name, go_utc_parts
from beam_pipeline.util.assets import go_string
from beam_pipeline.util.scval import sc_address_strkey

_T = xdr.SCValType

# Go's ScVal.ArmForSwitch names (the "type" of each serialized parameter).
ARM_NAMES = {
    _T.SCV_BOOL: "B",
    _T.SCV_VOID: "",
    _T.SCV_ERROR: "Error",
    _T.SCV_U32: "U32",
    _T.SCV_I32: "I32",
    _T.SCV_U64: "U64",
    _T.SCV_I64: "I64",
    _T.SCV_TIMEPOINT: "Timepoint",
    _T.SCV_DURATION: "Duration",
    _T.SCV_U128: "U128",
    _T.SCV_I128: "I128",
    _T.SCV_U256: "U256",
    _T.SCV_I256: "I256",
    _T.SCV_BYTES: "Bytes",
    _T.SCV_STRING: "Str",
    _T.SCV_SYMBOL: "Sym",
    _T.SCV_VEC: "Vec",
    _T.SCV_MAP: "Map",
    _T.SCV_ADDRESS: "Address",
    _T.SCV_CONTRACT_INSTANCE: "Instance",
    _T.SCV_LEDGER_KEY_CONTRACT_INSTANCE: "",
    _T.SCV_LEDGER_KEY_NONCE: "NonceKey",
}


def _go_time_string(epoch: int) -> str:
    """Go's ``time.Unix(epoch, 0).String()`` on a UTC host."""
    year, month, day, hh, mm, ss = go_utc_parts(epoch)
    year_text = f"-{-year:04d}" if year < 0 else f"{year:04d}"
    return f"{year_text}-{month:02d}-{day:02d} {hh:02d}:{mm:02d}:{ss:02d} +0000 UTC"


def _int64(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


def _go_hex_upper(value: int) -> str:
    """Go's ``%X`` of a signed integer."""
    return f"-{-value:X}" if value < 0 else f"{value:X}"


def _map_text(sc_map: xdr.SCMap) -> str:
    return "[" + " ".join(f"{{{scval_text(e.key)} {scval_text(e.val)}}}" for e in sc_map.sc_map) + "]"


def _error_text(err: xdr.SCError) -> str:
    if err.type == xdr.SCErrorType.SCE_CONTRACT:
        return f"{go_enum_name(err.type)}({err.contract_code.uint32})"
    return f"{go_enum_name(err.type)}({go_enum_name(err.code)})"


def scval_text(val: xdr.SCVal) -> str:
    """`val` as Go's ``ScVal.String()``; ``"unknown"`` for arms Go's method does not handle."""
    t = val.type
    if t == _T.SCV_BOOL:
        return "true" if val.b else "false"
    if t == _T.SCV_VOID:
        return "(void)"
    if t == _T.SCV_ERROR:
        return _error_text(val.error)
    if t == _T.SCV_U32:
        return str(val.u32.uint32)
    if t == _T.SCV_I32:
        return str(val.i32.int32)
    if t == _T.SCV_U64:
        return str(val.u64.uint64)
    if t == _T.SCV_I64:
        return str(val.i64.int64)
    if t == _T.SCV_TIMEPOINT:
        return _go_time_string(_int64(val.timepoint.time_point.uint64))
    if t == _T.SCV_DURATION:
        return str(val.duration.duration.uint64)
    if t == _T.SCV_U128:
        return str((val.u128.hi.uint64 << 64) | val.u128.lo.uint64)
    if t == _T.SCV_I128:
        return str((val.i128.hi.int64 << 64) | val.i128.lo.uint64)
    if t in (_T.SCV_U256, _T.SCV_I256):
        p = val.u256 if t == _T.SCV_U256 else val.i256
        hi_hi = p.hi_hi.uint64 if t == _T.SCV_U256 else p.hi_hi.int64
        return str((hi_hi << 192) | (p.hi_lo.uint64 << 128) | (p.lo_hi.uint64 << 64) | p.lo_lo.uint64)
    if t == _T.SCV_BYTES:
        return val.bytes.sc_bytes.hex()
    if t == _T.SCV_STRING:
        return go_string(val.str.sc_string)
    if t == _T.SCV_SYMBOL:
        return go_string(val.sym.sc_symbol)
    if t == _T.SCV_VEC:
        if val.vec is None:
            return "nil"
        return "[" + " ".join(scval_text(v) for v in val.vec.sc_vec) + "]"
    if t == _T.SCV_MAP:
        return "nil" if val.map is None else _map_text(val.map)
    if t == _T.SCV_ADDRESS:
        return sc_address_strkey(val.address)
    if t == _T.SCV_CONTRACT_INSTANCE:
        inst = val.instance
        exe = inst.executable
        text = ""
        if exe.type == xdr.ContractExecutableType.CONTRACT_EXECUTABLE_STELLAR_ASSET:
            text = "(StellarAssetContract)"
        elif exe.type == xdr.ContractExecutableType.CONTRACT_EXECUTABLE_WASM:
            text = exe.wasm_hash.hash.hex()
        if inst.storage is not None and inst.storage.sc_map:
            text += ": " + _map_text(inst.storage)
        return text
    if t == _T.SCV_LEDGER_KEY_CONTRACT_INSTANCE:
        return "(LedgerKeyContractInstance)"
    if t == _T.SCV_LEDGER_KEY_NONCE:
        return "{" + _go_hex_upper(val.nonce_key.nonce.int64) + "}"
    return "unknown"
