"""Soroban effects: Stellar Asset Contract events (stellar-etl TestInvokeHostFunctionEffects, under both
TransactionMeta versions that carry events) and the footprint operations."""

from __future__ import annotations

import base64
import hashlib

import pytest
from stellar_sdk import StrKey, xdr

from beam_pipeline.util.assets import asset_contract_id
from tests.records.effects_fixtures import (
    CREATED,
    CREATOR,
    ISSUER,
    NATIVE,
    OT,
    T,
    account_id,
    entry,
    ledger_at,
    run,
    state,
    updated,
)

# --- Soroban --------------------------------------------------------------------------------------------

ADMIN = ISSUER
FROM, TO = CREATOR, CREATED
TESTER = xdr.Asset(
    xdr.AssetType.ASSET_TYPE_CREDIT_ALPHANUM12,
    alpha_num12=xdr.AlphaNum12(xdr.AssetCode12(b"TESTER".ljust(12, b"\0")), account_id(ADMIN)),
)
FROM_CONTRACT = StrKey.encode_contract(bytes(32))
TO_CONTRACT = StrKey.encode_contract(bytes([1]) + bytes(31))
SOROBAN_EXT = xdr.TransactionExt(
    1,
    soroban_data=xdr.SorobanTransactionData(
        xdr.SorobanTransactionDataExt(0),
        xdr.SorobanResources(xdr.LedgerFootprint([], []), xdr.Uint32(0), xdr.Uint32(0), xdr.Uint32(0)),
        xdr.Int64(0),
    ),
)


def sc_address(address: str) -> xdr.SCVal:
    if address.startswith("C"):
        addr = xdr.SCAddress(
            xdr.SCAddressType.SC_ADDRESS_TYPE_CONTRACT,
            contract_id=xdr.ContractID(xdr.Hash(StrKey.decode_contract(address))),
        )
    else:
        addr = xdr.SCAddress(xdr.SCAddressType.SC_ADDRESS_TYPE_ACCOUNT, account_id=account_id(address))
    return xdr.SCVal(xdr.SCValType.SCV_ADDRESS, address=addr)


def sac_event(
    name: str, parties: list[str], asset: xdr.Asset, asset_text: str, contract: bytes | None = None, amount: int = 12345
) -> xdr.ContractEvent:
    topics = [xdr.SCVal(xdr.SCValType.SCV_SYMBOL, sym=xdr.SCSymbol(name.encode()))]
    topics += [sc_address(p) for p in parties]
    topics.append(xdr.SCVal(xdr.SCValType.SCV_STRING, str=xdr.SCString(asset_text.encode())))
    data = xdr.SCVal(xdr.SCValType.SCV_I128, i128=xdr.Int128Parts(xdr.Int64(0), xdr.Uint64(amount)))
    passphrase = ledger_at(1).network_passphrase
    cid = contract if contract is not None else asset_contract_id(asset, passphrase)
    return xdr.ContractEvent(
        xdr.ExtensionPoint(0),
        xdr.ContractID(xdr.Hash(cid)),
        xdr.ContractEventType.CONTRACT,
        xdr.ContractEventBody(0, v0=xdr.ContractEventV0(topics, data)),
    )


def invoke(events: list[xdr.ContractEvent], meta_version: int = 3) -> list[tuple]:
    ret = xdr.SCVal(xdr.SCValType.SCV_VOID)
    if meta_version == 3:
        soroban = xdr.SorobanTransactionMeta(xdr.SorobanTransactionMetaExt(0), events, ret, [])
        meta = xdr.TransactionMeta(
            3,
            v3=xdr.TransactionMetaV3(
                xdr.ExtensionPoint(0), xdr.LedgerEntryChanges([]), [], xdr.LedgerEntryChanges([]), soroban
            ),
        )
    else:
        op_meta = xdr.OperationMetaV2(xdr.ExtensionPoint(0), xdr.LedgerEntryChanges([]), events)
        meta = xdr.TransactionMeta(
            4,
            v4=xdr.TransactionMetaV4(
                xdr.ExtensionPoint(0),
                xdr.LedgerEntryChanges([]),
                [op_meta],
                xdr.LedgerEntryChanges([]),
                xdr.SorobanTransactionMetaV2(xdr.SorobanTransactionMetaExt(0), ret),
                [],
                [],
            ),
        )
    host_fn = xdr.HostFunction(xdr.HostFunctionType.HOST_FUNCTION_TYPE_UPLOAD_CONTRACT_WASM, wasm=b"")
    body = xdr.OperationBody(OT.INVOKE_HOST_FUNCTION, invoke_host_function_op=xdr.InvokeHostFunctionOp(host_fn, []))
    return run(body, source=ADMIN, meta=meta, ext=SOROBAN_EXT)


TESTER_TEXT = f"TESTER:{ADMIN}"
TESTER_KEYS = {"amount": "0.0012345", "asset_code": "TESTER", "asset_issuer": ADMIN, "asset_type": "credit_alphanum12"}


@pytest.mark.parametrize("meta_version", [3, 4])
@pytest.mark.parametrize(
    ("name", "parties", "expected"),
    [
        ("transfer", [FROM, TO], [(FROM, "account_debited", {}), (TO, "account_credited", {})]),
        (
            "transfer",
            [FROM_CONTRACT, TO_CONTRACT],
            [
                (ADMIN, "contract_debited", {"contract": FROM_CONTRACT}),
                (ADMIN, "contract_credited", {"contract": TO_CONTRACT}),
            ],
        ),
        (
            "transfer",
            [FROM, TO_CONTRACT],
            [(FROM, "account_debited", {}), (ADMIN, "contract_credited", {"contract": TO_CONTRACT})],
        ),
        (
            "transfer",
            [FROM_CONTRACT, TO],
            [(ADMIN, "contract_debited", {"contract": FROM_CONTRACT}), (TO, "account_credited", {})],
        ),
        ("mint", [ADMIN, TO], [(TO, "account_credited", {})]),
        ("mint", [ADMIN, TO_CONTRACT], [(ADMIN, "contract_credited", {"contract": TO_CONTRACT})]),
        ("clawback", [ADMIN, FROM], [(FROM, "account_debited", {})]),
        ("clawback", [ADMIN, FROM_CONTRACT], [(ADMIN, "contract_debited", {"contract": FROM_CONTRACT})]),
        ("burn", [FROM], [(FROM, "account_debited", {})]),
        ("burn", [FROM_CONTRACT], [(ADMIN, "contract_debited", {"contract": FROM_CONTRACT})]),
        # CAP-67 (protocol 23) mint/clawback have three topics: the Go parser rejects them, so no effect.
        ("mint", [TO], []),
        ("clawback", [FROM], []),
    ],
)
def test_stellar_asset_contract_events(meta_version: int, name: str, parties: list[str], expected: list) -> None:
    """stellar-etl TestInvokeHostFunctionEffects, with both TransactionMeta versions that carry events."""
    got = invoke([sac_event(name, parties, TESTER, TESTER_TEXT)], meta_version)
    assert got == [
        (addr, None, kind, {**TESTER_KEYS, "contract_event_type": name, **extra}) for addr, kind, extra in expected
    ]


def test_native_transfer_and_events_that_are_not_sac_balance_events() -> None:
    native = sac_event("transfer", [FROM, TO], NATIVE, "native")
    wrong_contract = sac_event("transfer", [FROM, TO], TESTER, TESTER_TEXT, contract=bytes(32))
    not_balance = sac_event("approve", [FROM, TO], TESTER, TESTER_TEXT)
    got = invoke([native, wrong_contract, not_balance])
    keys = {"amount": "0.0012345", "asset_type": "native", "contract_event_type": "transfer"}
    assert got == [(FROM, None, "account_debited", keys), (TO, None, "account_credited", keys)]


def ttl_changes() -> tuple[list[xdr.LedgerEntryChange], str]:
    key_hash = xdr.Hash(hashlib.sha256(b"entry").digest())
    ttl = [entry(xdr.LedgerEntryData(T.TTL, ttl=xdr.TTLEntry(key_hash, xdr.Uint32(n)))) for n in (1, 1234)]
    key = xdr.LedgerKey(T.TTL, ttl=xdr.LedgerKeyTtl(key_hash))
    return [state(ttl[0]), updated(ttl[1])], base64.b64encode(key.to_xdr_bytes()).decode()


def test_extend_footprint_ttl_and_restore_footprint() -> None:
    """stellar-etl TestBumpFootprintExpirationEffects / TestAddRestoreFootprintExpirationEffect."""
    changes, key = ttl_changes()
    extend = xdr.OperationBody(
        OT.EXTEND_FOOTPRINT_TTL,
        extend_footprint_ttl_op=xdr.ExtendFootprintTTLOp(xdr.ExtensionPoint(0), xdr.Uint32(1234)),
    )
    assert run(extend, changes, source=ADMIN) == [
        (ADMIN, None, "extend_footprint_ttl", {"entries": [key], "extend_to": 1234})
    ]
    restore = xdr.OperationBody(
        OT.RESTORE_FOOTPRINT, restore_footprint_op=xdr.RestoreFootprintOp(xdr.ExtensionPoint(0))
    )
    assert run(restore, changes, source=ADMIN) == [(ADMIN, None, "restore_footprint", {"entries": [key]})]
    assert run(restore, [], source=ADMIN) == [(ADMIN, None, "restore_footprint", {"entries": []})]
