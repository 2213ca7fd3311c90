"""Operation details for the operation types no real ledger here contains: synthetic transactions
in a real ledger, with expected values from stellar-etl's own unit tests (operation_test.go)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from stellar_sdk import StrKey, xdr

from beam_pipeline.records import operations
from beam_pipeline.records.operations.soroban import sac_balance_change
from beam_pipeline.util.assets import asset_contract_id
from beam_pipeline.xdr.ledger import LedgerView, TxView
from tests.records._load import load_ledgers

ACC3 = "GBT4YAEGJQ5YSFUMNKX6BPBUOCPNAIOFAVZOF6MIME2CECBMEIUXFZZN"
ACC4 = "GBVVRXLMNCJQW3IDDXC3X6XCH35B5Q7QXNMMFPENSOGUPQO7WO7HGZPA"
ZERO_ACC = "GAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAWHF"
ZERO_CONTRACT = "CAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAABSC4"
POOL_ID = bytes([1, 2, 3, 4, 5, 6, 7, 8, 9]) + bytes(23)
OT = xdr.OperationType


def _acc(address: str) -> xdr.AccountID:
    return xdr.AccountID(
        xdr.PublicKey(xdr.PublicKeyType.PUBLIC_KEY_TYPE_ED25519, xdr.Uint256(StrKey.decode_ed25519_public_key(address)))
    )


def _muxed(address: str, mux_id: int | None = None) -> xdr.MuxedAccount:
    key = xdr.Uint256(StrKey.decode_ed25519_public_key(address))
    if mux_id is None:
        return xdr.MuxedAccount(xdr.CryptoKeyType.KEY_TYPE_ED25519, ed25519=key)
    return xdr.MuxedAccount(
        xdr.CryptoKeyType.KEY_TYPE_MUXED_ED25519, med25519=xdr.MuxedAccountMed25519(xdr.Uint64(mux_id), key)
    )


def _a4(code: bytes, issuer: str) -> xdr.Asset:
    return xdr.Asset(
        xdr.AssetType.ASSET_TYPE_CREDIT_ALPHANUM4, alpha_num4=xdr.AlphaNum4(xdr.AssetCode4(code), _acc(issuer))
    )


NATIVE = xdr.Asset(xdr.AssetType.ASSET_TYPE_NATIVE)
USSD = _a4(b"USSD", ACC4)


def _pool_entry(reserve_a: int, reserve_b: int, shares: int) -> xdr.LedgerEntry:
    params = xdr.LiquidityPoolConstantProductParameters(NATIVE, USSD, xdr.Int32(30))
    cp = xdr.LiquidityPoolEntryConstantProduct(
        params, xdr.Int64(reserve_a), xdr.Int64(reserve_b), xdr.Int64(shares), xdr.Int64(1)
    )
    body = xdr.LiquidityPoolEntryBody(xdr.LiquidityPoolType.LIQUIDITY_POOL_CONSTANT_PRODUCT, constant_product=cp)
    data = xdr.LedgerEntryData(
        xdr.LedgerEntryType.LIQUIDITY_POOL, liquidity_pool=xdr.LiquidityPoolEntry(xdr.PoolID(xdr.Hash(POOL_ID)), body)
    )
    entry = xdr.LedgerEntry(xdr.Uint32(1), data, xdr.LedgerEntryExt(0))
    return xdr.LedgerEntry.from_xdr_bytes(entry.to_xdr_bytes())


def _update(pre: xdr.LedgerEntry, post: xdr.LedgerEntry) -> list[xdr.LedgerEntryChange]:
    C = xdr.LedgerEntryChangeType
    return [
        xdr.LedgerEntryChange(C.LEDGER_ENTRY_STATE, state=pre),
        xdr.LedgerEntryChange(C.LEDGER_ENTRY_UPDATED, updated=post),
    ]


def _soroban_ext(read_write: list[xdr.LedgerKey] | None = None) -> xdr.TransactionExt:
    resources = xdr.SorobanResources(
        xdr.LedgerFootprint([], read_write or []), xdr.Uint32(0), xdr.Uint32(0), xdr.Uint32(0)
    )
    return xdr.TransactionExt(
        1, soroban_data=xdr.SorobanTransactionData(xdr.SorobanTransactionDataExt(0), resources, xdr.Int64(0))
    )


@pytest.fixture(scope="module")
def host_ledger() -> LedgerView:
    """A real ledger supplies sequence, close time and passphrase; the transactions are synthetic."""
    return load_ledgers("testnet-p20-galexie", 1)[0]


def _row(
    ledger: LedgerView,
    ops: list[xdr.Operation],
    index: int,
    *,
    successful: bool = True,
    metas: list[list[xdr.LedgerEntryChange]] | None = None,
    ext: xdr.TransactionExt | None = None,
) -> dict:
    tx = xdr.Transaction(
        _muxed(ACC3),
        xdr.Uint32(100),
        xdr.SequenceNumber(xdr.Int64(1)),
        xdr.Preconditions(xdr.PreconditionType.PRECOND_NONE),
        xdr.Memo(xdr.MemoType.MEMO_NONE),
        ops,
        ext or xdr.TransactionExt(0),
    )
    envelope = xdr.TransactionEnvelope(xdr.EnvelopeType.ENVELOPE_TYPE_TX, v1=xdr.TransactionV1Envelope(tx, []))
    code = xdr.TransactionResultCode.txSUCCESS if successful else xdr.TransactionResultCode.txFAILED
    # Operation results are not needed by the details under test: an opNOT_SUPPORTED result keeps them out.
    results = [xdr.OperationResult(xdr.OperationResultCode.opNOT_SUPPORTED) for _ in ops]
    result = xdr.TransactionResult(
        xdr.Int64(100), xdr.TransactionResultResult(code, results=results), xdr.TransactionResultExt(0)
    )
    op_metas = (
        [xdr.OperationMeta(xdr.LedgerEntryChanges(m)) for m in (metas or [[] for _ in ops])] if successful else []
    )
    meta = xdr.TransactionMeta(
        2, v2=xdr.TransactionMetaV2(xdr.LedgerEntryChanges([]), op_metas, xdr.LedgerEntryChanges([]))
    )
    # Round trips through XDR so a malformed fixture fails here rather than passing by accident.
    envelope = xdr.TransactionEnvelope.from_xdr_bytes(envelope.to_xdr_bytes())
    pair = xdr.TransactionResultPair.from_xdr_bytes(
        xdr.TransactionResultPair(xdr.Hash(bytes(32)), result).to_xdr_bytes()
    )
    meta = xdr.TransactionMeta.from_xdr_bytes(meta.to_xdr_bytes())
    view = TxView(ledger, 1, envelope, pair, xdr.LedgerEntryChanges([]), meta)
    return operations.operation_row(ledger, view, index)


def _op(body: xdr.OperationBody, source: xdr.MuxedAccount | None = None) -> xdr.Operation:
    return xdr.Operation(source, body)


def _body(t: xdr.OperationType, **arm: Any) -> xdr.OperationBody:
    return xdr.OperationBody(t, **arm)


LP_DEPOSIT = _body(
    OT.LIQUIDITY_POOL_DEPOSIT,
    liquidity_pool_deposit_op=xdr.LiquidityPoolDepositOp(
        xdr.PoolID(xdr.Hash(POOL_ID)),
        xdr.Int64(1000),
        xdr.Int64(100),
        xdr.Price(xdr.Int32(1), xdr.Int32(1_000_000)),
        xdr.Price(xdr.Int32(1_000_000), xdr.Int32(1)),
    ),
)
LP_COMMON = {
    "liquidity_pool_id": "0102030405060708090000000000000000000000000000000000000000000000",
    "liquidity_pool_id_strkey": "LAAQEAYEAUDAOCAJAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAATUC",
    "reserve_a_asset_type": "native",
    "reserve_a_asset_id": -5706705804583548011,
}
LP_DEPOSIT_DETAILS = {
    **LP_COMMON,
    "reserve_a_max_amount": 0.0001,
    "reserve_a_deposit_amount": 0.0001,
    "reserve_b_asset_type": "credit_alphanum4",
    "reserve_b_asset_code": "USSD",
    "reserve_b_asset_issuer": ACC4,
    "reserve_b_asset_id": 6690054458235693884,
    "reserve_b_deposit_amount": 0.00001,
    "reserve_b_max_amount": 0.00001,
    "max_price": 1000000.0,
    "max_price_r": {"n": 1000000, "d": 1},
    "min_price": 0.000001,
    "min_price_r": {"n": 1, "d": 1000000},
    "shares_received": 0.0000002,
}


def test_liquidity_pool_deposit_reads_the_pool_delta(host_ledger: LedgerView) -> None:
    row = _row(host_ledger, [_op(LP_DEPOSIT)], 0, metas=[_update(_pool_entry(0, 0, 0), _pool_entry(1000, 100, 2))])
    assert json.loads(row["details"]) == LP_DEPOSIT_DETAILS
    assert row["type_string"] == "liquidity_pool_deposit" and row["operation_trace_code"] == ""


def test_failed_liquidity_pool_deposit_keeps_go_zero_values(host_ledger: LedgerView) -> None:
    d = json.loads(_row(host_ledger, [_op(LP_DEPOSIT)], 0, successful=False)["details"])
    assert d["reserve_b_asset_type"] == "native" and d["reserve_b_asset_id"] == -5706705804583548011
    assert (d["reserve_a_deposit_amount"], d["reserve_b_deposit_amount"], d["shares_received"]) == (0, 0, 0)


def test_liquidity_pool_withdraw_reports_what_left_the_pool(host_ledger: LedgerView) -> None:
    body = _body(
        OT.LIQUIDITY_POOL_WITHDRAW,
        liquidity_pool_withdraw_op=xdr.LiquidityPoolWithdrawOp(
            xdr.PoolID(xdr.Hash(POOL_ID)), xdr.Int64(4), xdr.Int64(1), xdr.Int64(1)
        ),
    )
    row = _row(host_ledger, [_op(body)], 0, metas=[_update(_pool_entry(1000, 100, 4), _pool_entry(0, 0, 0))])
    assert json.loads(row["details"]) == {
        **LP_COMMON,
        "reserve_a_min_amount": 0.0000001,
        "reserve_a_withdraw_amount": 0.0001,
        "reserve_b_asset_type": "credit_alphanum4",
        "reserve_b_asset_code": "USSD",
        "reserve_b_asset_issuer": ACC4,
        "reserve_b_asset_id": 6690054458235693884,
        "reserve_b_withdraw_amount": 0.00001,
        "reserve_b_min_amount": 0.0000001,
        "shares": 0.0000004,
    }


def _revoke_key(key: xdr.LedgerKey) -> xdr.OperationBody:
    return _body(
        OT.REVOKE_SPONSORSHIP,
        revoke_sponsorship_op=xdr.RevokeSponsorshipOp(
            xdr.RevokeSponsorshipType.REVOKE_SPONSORSHIP_LEDGER_ENTRY, ledger_key=key
        ),
    )


BALANCE_ID = xdr.ClaimableBalanceID(xdr.ClaimableBalanceIDType.CLAIMABLE_BALANCE_ID_TYPE_V0, v0=xdr.Hash(POOL_ID))
LK = xdr.LedgerEntryType
SYNTHETIC = [
    (
        _revoke_key(xdr.LedgerKey(LK.DATA, data=xdr.LedgerKeyData(_acc(ACC4), xdr.String64(b"test")))),
        {"data_account_id": ACC4, "data_name": "test"},
    ),
    (_revoke_key(xdr.LedgerKey(LK.OFFER, offer=xdr.LedgerKeyOffer(_acc(ACC3), xdr.Int64(100)))), {"offer_id": 100}),
    (
        _revoke_key(
            xdr.LedgerKey(
                LK.TRUSTLINE,
                trust_line=xdr.LedgerKeyTrustLine(
                    _acc(ACC3),
                    xdr.TrustLineAsset(
                        xdr.AssetType.ASSET_TYPE_CREDIT_ALPHANUM4,
                        alpha_num4=xdr.AlphaNum4(xdr.AssetCode4(b"USTT"), _acc(ACC3)),
                    ),
                ),
            )
        ),
        {"trustline_account_id": ACC3, "trustline_asset": f"USTT:{ACC3}"},
    ),
    (
        _revoke_key(
            xdr.LedgerKey(LK.LIQUIDITY_POOL, liquidity_pool=xdr.LedgerKeyLiquidityPool(xdr.PoolID(xdr.Hash(POOL_ID))))
        ),
        {k: LP_COMMON[k] for k in ("liquidity_pool_id", "liquidity_pool_id_strkey")},
    ),
    (
        _body(OT.CLAWBACK_CLAIMABLE_BALANCE, clawback_claimable_balance_op=xdr.ClawbackClaimableBalanceOp(BALANCE_ID)),
        {
            "balance_id": "000000000102030405060708090000000000000000000000000000000000000000000000",
            "balance_id_strkey": "BAAACAQDAQCQMBYIBEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAACPGI",
        },
    ),
    (
        _body(
            OT.SET_TRUST_LINE_FLAGS,
            set_trust_line_flags_op=xdr.SetTrustLineFlagsOp(
                _acc(ACC4), _a4(b"USDT", ACC4), xdr.Uint32(3), xdr.Uint32(4)
            ),
        ),
        {
            "asset_code": "USDT",
            "asset_issuer": ACC4,
            "asset_type": "credit_alphanum4",
            "asset_id": -8205667356306085451,
            "trustor": ACC4,
            "clear_flags": [1, 2],
            "clear_flags_s": ["authorized", "authorized_to_maintain_liabilities"],
            "set_flags": [4],
            "set_flags_s": ["clawback_enabled"],
        },
    ),
    (
        _body(
            OT.CHANGE_TRUST,
            change_trust_op=xdr.ChangeTrustOp(
                xdr.ChangeTrustAsset(
                    xdr.AssetType.ASSET_TYPE_POOL_SHARE,
                    liquidity_pool=xdr.LiquidityPoolParameters(
                        xdr.LiquidityPoolType.LIQUIDITY_POOL_CONSTANT_PRODUCT,
                        constant_product=xdr.LiquidityPoolConstantProductParameters(NATIVE, USSD, xdr.Int32(30)),
                    ),
                ),
                xdr.Int64(500000000000000000),
            ),
        ),
        {
            "trustor": ACC3,
            "limit": 50000000000.0,
            "asset_type": "liquidity_pool_shares",
            "liquidity_pool_id": "185a6b384c651552ba09b32851b79f5f6ab61e80883d303f52bea1406a4923f0",
            "liquidity_pool_id_strkey": "LAMFU2ZYJRSRKUV2BGZSQUNXT5PWVNQ6QCED2MB7KK7KCQDKJER7BGLT",
        },
    ),
    (
        _body(OT.MANAGE_DATA, manage_data_op=xdr.ManageDataOp(xdr.String64(b"test"), None)),
        {"name": "test", "value": None},
    ),
    (_body(OT.INFLATION), {}),
    (
        _body(OT.BUMP_SEQUENCE, bump_sequence_op=xdr.BumpSequenceOp(xdr.SequenceNumber(xdr.Int64(100)))),
        {"bump_to": "100"},
    ),
    (
        _body(
            OT.CREATE_PASSIVE_SELL_OFFER,
            create_passive_sell_offer_op=xdr.CreatePassiveSellOfferOp(
                USSD, NATIVE, xdr.Int64(631595), xdr.Price(xdr.Int32(635863), xdr.Int32(10000))
            ),
        ),
        {
            "amount": 0.0631595,
            "price": 63.5863,
            "price_r": {"n": 635863, "d": 10000},
            "buying_asset_type": "native",
            "buying_asset_id": -5706705804583548011,
            "selling_asset_code": "USSD",
            "selling_asset_issuer": ACC4,
            "selling_asset_type": "credit_alphanum4",
            "selling_asset_id": 6690054458235693884,
        },
    ),
    (
        _body(
            OT.BEGIN_SPONSORING_FUTURE_RESERVES,
            begin_sponsoring_future_reserves_op=xdr.BeginSponsoringFutureReservesOp(_acc(ACC4)),
        ),
        {"sponsored_id": ACC4},
    ),
]


@pytest.mark.parametrize(("body", "expected"), SYNTHETIC, ids=[b.type.name.lower() for b, _ in SYNTHETIC])
def test_synthetic_operation_details(host_ledger: LedgerView, body: xdr.OperationBody, expected: dict) -> None:
    assert json.loads(_row(host_ledger, [_op(body)], 0)["details"]) == expected


def test_end_sponsoring_names_the_begin_op_source_only_when_successful(host_ledger: LedgerView) -> None:
    ops = [
        _op(
            _body(
                OT.BEGIN_SPONSORING_FUTURE_RESERVES,
                begin_sponsoring_future_reserves_op=xdr.BeginSponsoringFutureReservesOp(_acc(ACC4)),
            ),
            source=_muxed(ZERO_ACC, 7),
        ),
        _op(_body(OT.END_SPONSORING_FUTURE_RESERVES), source=_muxed(ACC4)),
    ]
    muxed = StrKey.encode_med25519_public_key(bytes(32) + (7).to_bytes(8, "big"))
    row = _row(host_ledger, ops, 1)
    assert json.loads(row["details"]) == {
        "begin_sponsor": ZERO_ACC,
        "begin_sponsor_muxed": muxed,
        "begin_sponsor_muxed_id": 7,
    }
    assert json.loads(_row(host_ledger, ops, 1, successful=False)["details"]) == {}
    begin_row = _row(host_ledger, ops, 0)
    assert (begin_row["source_account"], begin_row["source_account_muxed"]) == (ZERO_ACC, muxed)


def test_sponsor_of_created_entry(host_ledger: LedgerView) -> None:
    body = _body(OT.CREATE_ACCOUNT, create_account_op=xdr.CreateAccountOp(_acc(ACC4), xdr.Int64(25000000)))
    entry = xdr.LedgerEntry(
        xdr.Uint32(1),
        xdr.LedgerEntryData(
            LK.DATA, data=xdr.DataEntry(_acc(ACC4), xdr.String64(b"x"), xdr.DataValue(b"v"), xdr.DataEntryExt(0))
        ),
        xdr.LedgerEntryExt(
            1,
            v1=xdr.LedgerEntryExtensionV1(xdr.SponsorshipDescriptor(_acc(ZERO_ACC)), xdr.LedgerEntryExtensionV1Ext(0)),
        ),
    )
    created = xdr.LedgerEntryChange(xdr.LedgerEntryChangeType.LEDGER_ENTRY_CREATED, created=entry)
    d = json.loads(_row(host_ledger, [_op(body)], 0, metas=[[created]])["details"])
    assert d == {"account": ACC4, "funder": ACC3, "starting_balance": 2.5, "sponsor": ZERO_ACC}


def _sc_address_contract(raw: bytes) -> xdr.SCAddress:
    return xdr.SCAddress(xdr.SCAddressType.SC_ADDRESS_TYPE_CONTRACT, contract_id=xdr.ContractID(xdr.Hash(raw)))


def test_invoke_contract_details(host_ledger: LedgerView) -> None:
    fn = xdr.HostFunction(
        xdr.HostFunctionType.HOST_FUNCTION_TYPE_INVOKE_CONTRACT,
        invoke_contract=xdr.InvokeContractArgs(_sc_address_contract(bytes(32)), xdr.SCSymbol(b"test"), []),
    )
    body = _body(OT.INVOKE_HOST_FUNCTION, invoke_host_function_op=xdr.InvokeHostFunctionOp(fn, []))
    assert json.loads(_row(host_ledger, [_op(body)], 0, ext=_soroban_ext())["details"]) == {
        "function": "HostFunctionTypeHostFunctionTypeInvokeContract",
        "type": "invoke_contract",
        "contract_id": ZERO_CONTRACT,
        "contract_code_hash": None,
        "asset_balance_changes": [],
        "ledger_key_hash": None,
        "parameters": [
            {"type": "Address", "value": "AAAAEgAAAAEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=="},
            {"type": "Sym", "value": "AAAADwAAAAR0ZXN0"},
        ],
        "parameters_decoded": [{"type": "Address", "value": ZERO_CONTRACT}, {"type": "Sym", "value": "test"}],
        "parameters_json": ["AAAAEgAAAAEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==", "AAAADwAAAAR0ZXN0"],
        "parameters_json_decoded": [{"address": ZERO_CONTRACT}, {"symbol": "test"}],
    }


def test_create_contract_and_footprint_operations(host_ledger: LedgerView) -> None:
    zero12 = xdr.Asset(
        xdr.AssetType.ASSET_TYPE_CREDIT_ALPHANUM12,
        alpha_num12=xdr.AlphaNum12(xdr.AssetCode12(bytes(12)), _acc(ZERO_ACC)),
    )
    preimage = xdr.ContractIDPreimage(xdr.ContractIDPreimageType.CONTRACT_ID_PREIMAGE_FROM_ASSET, from_asset=zero12)
    exe = xdr.ContractExecutable(xdr.ContractExecutableType.CONTRACT_EXECUTABLE_STELLAR_ASSET)
    v2 = xdr.HostFunction(
        xdr.HostFunctionType.HOST_FUNCTION_TYPE_CREATE_CONTRACT_V2,
        create_contract_v2=xdr.CreateContractArgsV2(preimage, exe, [xdr.SCVal(xdr.SCValType.SCV_BOOL, b=True)]),
    )
    key = xdr.LedgerKey(
        LK.CONTRACT_DATA,
        contract_data=xdr.LedgerKeyContractData(
            _sc_address_contract(bytes(32)),
            xdr.SCVal(xdr.SCValType.SCV_LEDGER_KEY_CONTRACT_INSTANCE),
            xdr.ContractDataDurability.PERSISTENT,
        ),
    )
    ext = _soroban_ext([key])
    ops = [
        _op(_body(OT.INVOKE_HOST_FUNCTION, invoke_host_function_op=xdr.InvokeHostFunctionOp(v2, []))),
        _op(
            _body(
                OT.EXTEND_FOOTPRINT_TTL,
                extend_footprint_ttl_op=xdr.ExtendFootprintTTLOp(xdr.ExtensionPoint(0), xdr.Uint32(1234)),
            )
        ),
        _op(_body(OT.RESTORE_FOOTPRINT, restore_footprint_op=xdr.RestoreFootprintOp(xdr.ExtensionPoint(0)))),
    ]
    footprint = {
        "ledger_key_hash": [hashlib.sha256(key.to_xdr_bytes()).hexdigest()],
        "contract_id": ZERO_CONTRACT,
        "contract_code_hash": None,
    }
    assert json.loads(_row(host_ledger, ops, 0, ext=ext)["details"]) == {
        "function": "HostFunctionTypeHostFunctionTypeCreateContractV2",
        "type": "create_contract_v2",
        **footprint,
        "from": "asset",
        "asset": f":{ZERO_ACC}",
        "parameters": [{"type": "B", "value": "AAAAAAAAAAE="}],
        "parameters_decoded": [{"type": "B", "value": "true"}],
        "parameters_json": ["AAAAAAAAAAE="],
        "parameters_json_decoded": [{"bool": True}],
    }
    assert json.loads(_row(host_ledger, ops, 1, ext=ext)["details"]) == {
        "type": "extend_footprint_ttl",
        "extend_to": 1234,
        **footprint,
    }
    assert json.loads(_row(host_ledger, ops, 2, ext=ext)["details"]) == {"type": "restore_footprint", **footprint}


def _sac_event(contract: bytes, topics: list[xdr.SCVal], amount: int) -> xdr.ContractEvent:
    data = xdr.SCVal(
        xdr.SCValType.SCV_I128, i128=xdr.Int128Parts(xdr.Int64(amount >> 64), xdr.Uint64(amount & (2**64 - 1)))
    )
    return xdr.ContractEvent(
        xdr.ExtensionPoint(0),
        xdr.ContractID(xdr.Hash(contract)),
        xdr.ContractEventType.CONTRACT,
        xdr.ContractEventBody(0, v0=xdr.ContractEventV0(topics, data)),
    )


def _sym(s: bytes) -> xdr.SCVal:
    return xdr.SCVal(xdr.SCValType.SCV_SYMBOL, sym=xdr.SCSymbol(s))


def _addr(address: str) -> xdr.SCVal:
    return xdr.SCVal(
        xdr.SCValType.SCV_ADDRESS,
        address=xdr.SCAddress(xdr.SCAddressType.SC_ADDRESS_TYPE_ACCOUNT, account_id=_acc(address)),
    )


def _str(s: bytes) -> xdr.SCVal:
    return xdr.SCVal(xdr.SCValType.SCV_STRING, str=xdr.SCString(s))


PASSPHRASE = "Test SDF Network ; September 2015"
USSD_SAC = asset_contract_id(USSD, PASSPHRASE)


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        (
            _sac_event(
                USSD_SAC, [_sym(b"transfer"), _addr(ACC3), _addr(ACC4), _str(f"USSD:{ACC4}".encode())], 15_000_000
            ),
            {
                "from": ACC3,
                "to": ACC4,
                "type": "transfer",
                "amount": "1.5000000",
                "asset_type": "credit_alphanum4",
                "asset_code": "USSD",
                "asset_issuer": ACC4,
            },
        ),
        (
            _sac_event(USSD_SAC, [_sym(b"mint"), _addr(ACC4), _addr(ACC3), _str(f"USSD:{ACC4}".encode())], 1),
            {
                "to": ACC3,
                "type": "mint",
                "amount": "0.0000001",
                "asset_type": "credit_alphanum4",
                "asset_code": "USSD",
                "asset_issuer": ACC4,
            },
        ),
        (
            _sac_event(USSD_SAC, [_sym(b"burn"), _addr(ACC3), _str(f"USSD:{ACC4}".encode())], 10_000_000),
            {
                "from": ACC3,
                "type": "burn",
                "amount": "1.0000000",
                "asset_type": "credit_alphanum4",
                "asset_code": "USSD",
                "asset_issuer": ACC4,
            },
        ),
        # protocol 23's 3-topic mint is not a balance change to the parser stellar-etl uses
        (_sac_event(USSD_SAC, [_sym(b"mint"), _addr(ACC3), _str(f"USSD:{ACC4}".encode())], 1), None),
        # an event naming an asset its contract is not the SAC of
        (_sac_event(bytes(32), [_sym(b"transfer"), _addr(ACC3), _addr(ACC4), _str(f"USSD:{ACC4}".encode())], 1), None),
        (
            _sac_event(
                asset_contract_id(NATIVE, PASSPHRASE),
                [_sym(b"clawback"), _addr(ACC4), _addr(ACC3), _str(b"native")],
                -1,
            ),
            {"from": ACC3, "type": "clawback", "amount": "-0.0000001", "asset_type": "native"},
        ),
    ],
)
def test_sac_balance_changes(event: xdr.ContractEvent, expected: dict | None) -> None:
    assert sac_balance_change(event, PASSPHRASE) == expected


def test_errors_name_ledger_transaction_and_operation(host_ledger: LedgerView) -> None:
    row_error = pytest.raises(
        operations.OperationError, match=rf"ledger {host_ledger.sequence} tx 0{{64}} operation 1: .*liquidity pool"
    )
    with row_error:
        _row(host_ledger, [_op(LP_DEPOSIT)], 0, metas=[[]])
