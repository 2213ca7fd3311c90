"""``contract_data``: Soroban contract-data entry changes (stellar-etl ``contract_data``).

Beyond the entry itself stellar-etl decodes two Stellar Asset Contract (SAC) shapes, and so do we:

* the SAC instance entry (key ``ledger_key_contract_instance``, storage ``[AssetInfo] ->
  [AlphaNum4|AlphaNum12|Native, {asset_code, issuer}]``) yields ``asset_code``/``asset_issuer``/
  ``asset_type``, but only when the contract id really is that asset's SAC id on the network;
* a balance entry (key ``[Balance, <contract address>]``, value ``{amount: i128, authorized: bool,
  clawback: bool}``) yields ``balance_holder`` (a ``C...`` strkey) and ``balance`` (decimal i128).
  Like stellar-etl this is recognised by shape alone, and holders that are accounts (whose SAC
  balances live in trustlines) are not decoded.

Nonce entries (``ledger_key_nonce`` keys) are skipped, as stellar-etl does.
"""

from __future__ import annotations

import hashlib

from stellar_sdk import xdr

from beam_pipeline.records.changes._common import change_columns
from beam_pipeline.records.changes._extract import EntryChange, compacted_of_type
from beam_pipeline.util.assets import asset_contract_id, extract_asset
from beam_pipeline.util.scval import ScValError, json_text, scval_to_json
from beam_pipeline.util.strkey import contract_strkey
from beam_pipeline.xdr.fast import xdr_bytes
from beam_pipeline.xdr.ledger import LedgerView

_T = xdr.SCValType
# Go's String() of xdr.ScValType (stellar-etl's contract_key_type values).
_GO_SCVAL_TYPE_NAMES = {
    _T.SCV_BOOL: "ScValTypeScvBool",
    _T.SCV_VOID: "ScValTypeScvVoid",
    _T.SCV_ERROR: "ScValTypeScvError",
    _T.SCV_U32: "ScValTypeScvU32",
    _T.SCV_I32: "ScValTypeScvI32",
    _T.SCV_U64: "ScValTypeScvU64",
    _T.SCV_I64: "ScValTypeScvI64",
    _T.SCV_TIMEPOINT: "ScValTypeScvTimepoint",
    _T.SCV_DURATION: "ScValTypeScvDuration",
    _T.SCV_U128: "ScValTypeScvU128",
    _T.SCV_I128: "ScValTypeScvI128",
    _T.SCV_U256: "ScValTypeScvU256",
    _T.SCV_I256: "ScValTypeScvI256",
    _T.SCV_BYTES: "ScValTypeScvBytes",
    _T.SCV_STRING: "ScValTypeScvString",
    _T.SCV_SYMBOL: "ScValTypeScvSymbol",
    _T.SCV_VEC: "ScValTypeScvVec",
    _T.SCV_MAP: "ScValTypeScvMap",
    _T.SCV_ADDRESS: "ScValTypeScvAddress",
    _T.SCV_CONTRACT_INSTANCE: "ScValTypeScvContractInstance",
    _T.SCV_LEDGER_KEY_CONTRACT_INSTANCE: "ScValTypeScvLedgerKeyContractInstance",
    _T.SCV_LEDGER_KEY_NONCE: "ScValTypeScvLedgerKeyNonce",
}
_GO_DURABILITY_NAMES = {
    xdr.ContractDataDurability.TEMPORARY: "ContractDataDurabilityTemporary",
    xdr.ContractDataDurability.PERSISTENT: "ContractDataDurabilityPersistent",
}
_ASSET_INFO_KEY = xdr.SCVal(_T.SCV_VEC, vec=xdr.SCVec([xdr.SCVal(_T.SCV_SYMBOL, sym=xdr.SCSymbol(b"AssetInfo"))]))
_NATIVE = xdr.Asset(xdr.AssetType.ASSET_TYPE_NATIVE)


def _sym(val: xdr.SCVal) -> bytes | None:
    return val.sym.sc_symbol if val.type == _T.SCV_SYMBOL else None


def _credit_asset(code: bytes, issuer: bytes) -> xdr.Asset | None:
    """Go's ``NewCreditAsset``: 1-4 byte codes are alphanum4, 5-12 alphanum12, else no asset."""
    if len(issuer) != 32:
        return None
    account = xdr.AccountID(xdr.PublicKey(xdr.PublicKeyType.PUBLIC_KEY_TYPE_ED25519, xdr.Uint256(issuer)))
    if 1 <= len(code) <= 4:
        return xdr.Asset(
            xdr.AssetType.ASSET_TYPE_CREDIT_ALPHANUM4,
            alpha_num4=xdr.AlphaNum4(xdr.AssetCode4(code.ljust(4, b"\0")), account),
        )
    if 5 <= len(code) <= 12:
        return xdr.Asset(
            xdr.AssetType.ASSET_TYPE_CREDIT_ALPHANUM12,
            alpha_num12=xdr.AlphaNum12(xdr.AssetCode12(code.ljust(12, b"\0")), account),
        )
    return None


def asset_from_contract_data(cd: xdr.ContractDataEntry, passphrase: str) -> xdr.Asset | None:
    """The asset of a verified SAC instance entry, else None (stellar-etl's AssetFromContractData)."""
    if cd.key.type != _T.SCV_LEDGER_KEY_CONTRACT_INSTANCE or cd.val.type != _T.SCV_CONTRACT_INSTANCE:
        return None
    storage = cd.val.instance.storage
    if storage is None:
        return None
    info = next((e.val for e in storage.sc_map if e.key == _ASSET_INFO_KEY), None)
    if info is None or info.type != _T.SCV_VEC or info.vec is None or len(info.vec.sc_vec) != 2:
        return None
    kind, body = info.vec.sc_vec
    contract_id = cd.contract.contract_id.contract_id.hash if cd.contract.contract_id else None
    sym = _sym(kind)
    if sym == b"Native":
        if contract_id == asset_contract_id(_NATIVE, passphrase):
            return _NATIVE
    elif sym not in (b"AlphaNum4", b"AlphaNum12"):
        return None
    if body.type != _T.SCV_MAP or body.map is None or len(body.map.sc_map) != 2:
        return None
    code_entry, issuer_entry = body.map.sc_map
    if _sym(code_entry.key) != b"asset_code" or code_entry.val.type != _T.SCV_STRING:
        return None
    code = code_entry.val.str.sc_string
    if not code or _sym(issuer_entry.key) != b"issuer" or issuer_entry.val.type != _T.SCV_BYTES:
        return None
    asset = _credit_asset(code, issuer_entry.val.bytes.sc_bytes)
    if asset is None or contract_id != asset_contract_id(asset, passphrase):
        return None
    return asset


def balance_from_contract_data(cd: xdr.ContractDataEntry) -> tuple[bytes, int] | None:
    """(holder contract id, amount) of a SAC-shaped balance entry, else None (ContractBalanceFromContractData)."""
    if cd.contract.type != xdr.SCAddressType.SC_ADDRESS_TYPE_CONTRACT:
        return None
    key = cd.key
    if key.type != _T.SCV_VEC or key.vec is None or len(key.vec.sc_vec) != 2:
        return None
    tag, holder = key.vec.sc_vec
    if _sym(tag) != b"Balance" or holder.type != _T.SCV_ADDRESS:
        return None
    if holder.address.type != xdr.SCAddressType.SC_ADDRESS_TYPE_CONTRACT:
        return None
    val = cd.val
    if val.type != _T.SCV_MAP or val.map is None or len(val.map.sc_map) != 3:
        return None
    amount, authorized, clawback = val.map.sc_map
    if _sym(amount.key) != b"amount":
        return None
    if _sym(authorized.key) != b"authorized" or authorized.val.type != _T.SCV_BOOL:
        return None
    if _sym(clawback.key) != b"clawback" or clawback.val.type != _T.SCV_BOOL:
        return None
    if amount.val.type != _T.SCV_I128:
        return None
    hi, lo = amount.val.i128.hi.int64, amount.val.i128.lo.uint64
    if hi < 0:
        return None
    return holder.address.contract_id.contract_id.hash, (hi << 64) | lo


def change_row(change: EntryChange, ledger: LedgerView) -> dict | None:
    entry = change.entry
    cd = entry.data.contract_data
    if cd.key.type == _T.SCV_LEDGER_KEY_NONCE:
        return None
    if cd.contract.type != xdr.SCAddressType.SC_ADDRESS_TYPE_CONTRACT:
        raise ValueError(f"ledger {ledger.sequence}: contract data {change.key_hash_hex} is not owned by a contract")
    asset_type = code = issuer = ""
    asset = asset_from_contract_data(cd, ledger.network_passphrase)
    if asset is not None:
        asset_type, code, issuer = extract_asset(asset)
        code = code.replace("\0", "")
    holder = balance = ""
    found = balance_from_contract_data(cd)
    if found is not None:
        holder, balance = contract_strkey(found[0]), str(found[1])
    try:
        key_decoded, val_decoded = json_text(scval_to_json(cd.key)), json_text(scval_to_json(cd.val))
    except ScValError as err:
        raise ValueError(f"ledger {ledger.sequence}: contract data {change.key_hash_hex}: {err}") from None
    key_xdr = xdr_bytes(cd.key)
    return {
        "contract_id": contract_strkey(cd.contract.contract_id.contract_id.hash),
        "contract_key_type": _GO_SCVAL_TYPE_NAMES[cd.key.type],
        "contract_durability": _GO_DURABILITY_NAMES[cd.durability],
        "asset_code": code,
        "asset_issuer": issuer,
        "asset_type": asset_type,
        "balance_holder": holder,
        "balance": balance,
        "ledger_key_hash": hashlib.sha256(change.key_bytes).hexdigest(),
        "key": key_xdr,
        "key_decoded": key_decoded,
        "val": xdr_bytes(cd.val),
        "val_decoded": val_decoded,
        "contract_data_xdr": xdr_bytes(cd),
        "ledger_key_hash_base_64": change.key_bytes,
        **change_columns(change, ledger),
    }


def transform(ledger: LedgerView) -> list[dict]:
    """One row per contract-data entry changed in the ledger (compacted), nonces excluded."""
    rows = (change_row(c, ledger) for c in compacted_of_type(ledger, xdr.LedgerEntryType.CONTRACT_DATA))
    return [r for r in rows if r is not None]
