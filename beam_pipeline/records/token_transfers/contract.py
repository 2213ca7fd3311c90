"""Token movements announced by contract events: SEP-41 tokens and Stellar Asset Contracts.

A contract event is a token event when its first topic is the symbol ``transfer``, ``mint``,
``burn`` or ``clawback``, the addresses are where SEP-41 puts them and its data is the amount (an
i128; from protocol 23 also a map ``{amount, to_muxed_id}``). Anything else is not an error, just
not a token event, as in the reference.

The topic layout changed with CAP-67 (TransactionMeta v4): ``mint`` and ``clawback`` lost their
admin topic. When the last topic names a classic asset in SEP-11 form whose Stellar Asset Contract
is the emitting contract, the event gets that asset; otherwise the asset stays unknown (a custom
token). Before CAP-67 the SAC reported mints and burns of the issuer as transfers; the reference
reclassifies such transfers by issuer, and so do we.
"""

from __future__ import annotations

import re

from stellar_sdk import Asset, StrKey, xdr

from beam_pipeline.records.token_transfers.event import (
    BURN,
    CLAWBACK,
    MINT,
    TRANSFER,
    MuxedInfo,
    TokenEvent,
    TxContext,
    mint_burn_or_transfer,
)
from beam_pipeline.util.goformat import go_string
from beam_pipeline.util.scval import ScValError, sc_address_strkey
from beam_pipeline.util.strkey import contract_strkey

_ASSET_CODE = re.compile(r"^[A-Za-z0-9]{1,12}$")
_SYM = xdr.SCValType.SCV_SYMBOL


def i128_value(value: xdr.SCVal) -> int | None:
    """The integer of an i128 ScVal, else None."""
    if value.type != xdr.SCValType.SCV_I128:
        return None
    parts = value.i128
    return (parts.hi.int64 << 64) + parts.lo.uint64


def address_strkey(value: xdr.SCVal) -> str | None:
    """The strkey of an address ScVal, else None."""
    if value.type != xdr.SCValType.SCV_ADDRESS:
        return None
    try:
        return sc_address_strkey(value.address)
    except ScValError:
        return None


def sep11_asset(text: str) -> xdr.Asset | None:
    """The one classic asset a SEP-11 string names (``native`` or ``CODE:G...``), else None."""
    if not text or "," in text:
        return None
    if text.lower() == "native":
        return xdr.Asset(type=xdr.AssetType.ASSET_TYPE_NATIVE)
    parts = text.split(":")
    if len(parts) != 2 or not _ASSET_CODE.match(parts[0]) or not StrKey.is_valid_ed25519_public_key(parts[1]):
        return None
    return Asset(parts[0], parts[1]).to_xdr_object()


def _v4_amount(value: xdr.SCVal) -> tuple[int, MuxedInfo | None] | None:
    """Amount and destination information of a CAP-67 event's data (an i128 or an ScMap)."""
    if value.type != xdr.SCValType.SCV_MAP:
        amount = i128_value(value)
        return None if amount is None else (amount, None)
    if value.map is None:
        return None
    amount = None
    muxed = None
    for entry in value.map.sc_map:
        if entry.key.type != _SYM:
            return None
        key = entry.key.sym.sc_symbol
        if key == b"amount":
            amount = i128_value(entry.val)
            if amount is None:
                return None
        elif key == b"to_muxed_id":
            t = entry.val.type
            if t == xdr.SCValType.SCV_U64:
                muxed = MuxedInfo("id", entry.val.u64.uint64)
            elif t == xdr.SCValType.SCV_BYTES:
                muxed = MuxedInfo("hash")
            elif t == xdr.SCValType.SCV_STRING:
                muxed = MuxedInfo("text")
            else:
                return None
    return None if amount is None else (amount, muxed)


def _expected_topics(kind: str, meta_version: int) -> int:
    if meta_version == 3:
        return 3 if kind == BURN else 4
    return 4 if kind == TRANSFER else 3


def _parties(kind: str, topics: list[xdr.SCVal], meta_version: int) -> tuple[str | None, str | None] | None:
    """(from, to) by SEP-41's topic layout, or None if an address is missing or invalid."""
    n = len(topics)
    if kind == TRANSFER:
        if n < 3:
            return None
        sender, receiver = address_strkey(topics[1]), address_strkey(topics[2])
        return None if sender is None or receiver is None else (sender, receiver)
    if kind == BURN:
        sender = address_strkey(topics[1])
        return None if sender is None else (sender, None)
    # mint and clawback: v3 carries the admin first, v4 does not.
    if meta_version == 3:
        if n < 3 or address_strkey(topics[1]) is None:
            return None
        party = address_strkey(topics[2])
    else:
        party = address_strkey(topics[1])
    if party is None:
        return None
    return (None, party) if kind == MINT else (party, None)


def token_event(ctx: TxContext, op_index: int, event: xdr.ContractEvent, meta_version: int) -> TokenEvent | None:
    """The token movement a contract event announces, or None when it is no SEP-41 token event."""
    if event.type != xdr.ContractEventType.CONTRACT or event.contract_id is None or event.body.v != 0:
        return None
    if meta_version not in (3, 4):
        return None
    topics = event.body.v0.topics
    if len(topics) < 2 or topics[0].type != _SYM:
        return None
    kind = go_string(topics[0].sym.sc_symbol)
    if kind not in (TRANSFER, MINT, BURN, CLAWBACK):
        return None
    if meta_version == 3:
        amount = i128_value(event.body.v0.data)
        if amount is None:
            return None
        muxed = None
    else:
        parsed = _v4_amount(event.body.v0.data)
        if parsed is None:
            return None
        amount, muxed = parsed
    parties = _parties(kind, topics, meta_version)
    if parties is None:
        return None
    contract = contract_strkey(event.contract_id.contract_id.hash)
    out = TokenEvent(kind, parties[0], parties[1], amount, None, contract, op_index, muxed)
    if len(topics) != _expected_topics(kind, meta_version):
        return out
    last = topics[-1]
    if last.type != xdr.SCValType.SCV_STRING:
        return out
    asset = sep11_asset(go_string(last.str.sc_string))
    if asset is None or ctx.sac_id(asset) != contract:
        return out
    out.asset = asset
    if meta_version == 3 and kind == TRANSFER:
        # Before CAP-67 the SAC called mints and burns by the issuer transfers.
        return mint_burn_or_transfer(ctx, op_index, asset, out.sender, out.receiver, amount, False)
    return out
