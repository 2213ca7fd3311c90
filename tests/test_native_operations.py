"""The native `operations` table on the operation types and details no real ledger here holds.

tests/test_native.py proves the native core equal to the Python path on every data store, but those
stores hold only some operation types (no liquidity pool, sponsorship, data, footprint or muxed-account
operations, no Stellar Asset Contract balance changes, no claim predicates beyond the simplest). Here
synthetic transactions are put into a real ledger, which both paths then build rows from: the rows
(every column, `details` byte for byte) and the errors (class and message) must be the same.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import pyarrow as pa
import pytest
from stellar_sdk import Asset, xdr

from beam_pipeline import native
from beam_pipeline.records import operations
from beam_pipeline.records.tables.operations import SCHEMA
from beam_pipeline.util.assets import asset_contract_id
from beam_pipeline.xdr.ledger import LedgerView, network_id, transaction_hash
from tests.records._load import load_ledgers
from tests.records.effects_fixtures import a4, account_id, created, entry, muxed, state, updated
from tests.records.test_operation_details import LP_DEPOSIT, SYNTHETIC

if native.mode() == "0":
    pytest.skip("STELLAR_ARCHIVE_NATIVE=0: a pure-Python run", allow_module_level=True)
_native = pytest.importorskip("beam_pipeline._native")

ACC3 = "GBT4YAEGJQ5YSFUMNKX6BPBUOCPNAIOFAVZOF6MIME2CECBMEIUXFZZN"
ACC4 = "GBVVRXLMNCJQW3IDDXC3X6XCH35B5Q7QXNMMFPENSOGUPQO7WO7HGZPA"
ZERO_ACC = "GAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAWHF"
POOL_ID = bytes([1, 2, 3, 4, 5, 6, 7, 8, 9]) + bytes(23)
OT = xdr.OperationType
LK = xdr.LedgerEntryType
C = xdr.LedgerEntryChangeType
V = xdr.SCValType
NATIVE = xdr.Asset(xdr.AssetType.ASSET_TYPE_NATIVE)


USSD = a4(b"USSD", ACC4)


def body(t: xdr.OperationType, **arm: Any) -> xdr.OperationBody:
    return xdr.OperationBody(t, **arm)


def op(b: xdr.OperationBody, source: xdr.MuxedAccount | None = None) -> xdr.Operation:
    return xdr.Operation(source, b)


def pool_entry(reserve_a: int, reserve_b: int, shares: int) -> xdr.LedgerEntry:
    params = xdr.LiquidityPoolConstantProductParameters(NATIVE, USSD, xdr.Int32(30))
    cp = xdr.LiquidityPoolEntryConstantProduct(
        params, xdr.Int64(reserve_a), xdr.Int64(reserve_b), xdr.Int64(shares), xdr.Int64(1)
    )
    b = xdr.LiquidityPoolEntryBody(xdr.LiquidityPoolType.LIQUIDITY_POOL_CONSTANT_PRODUCT, constant_product=cp)
    data = xdr.LedgerEntryData(
        LK.LIQUIDITY_POOL, liquidity_pool=xdr.LiquidityPoolEntry(xdr.PoolID(xdr.Hash(POOL_ID)), b)
    )
    return xdr.LedgerEntry(xdr.Uint32(1), data, xdr.LedgerEntryExt(0))


def update(pre: xdr.LedgerEntry, post: xdr.LedgerEntry) -> list[xdr.LedgerEntryChange]:
    return [state(pre), updated(post)]


def account_entry(address: str, signers: list[tuple[xdr.SignerKey, str | None]]) -> xdr.LedgerEntry:
    ids = [xdr.SponsorshipDescriptor(account_id(s) if s else None) for _, s in signers]
    v2 = xdr.AccountEntryExtensionV2(xdr.Uint32(0), xdr.Uint32(0), ids, xdr.AccountEntryExtensionV2Ext(0))
    v1 = xdr.AccountEntryExtensionV1(
        xdr.Liabilities(xdr.Int64(0), xdr.Int64(0)), xdr.AccountEntryExtensionV1Ext(2, v2=v2)
    )
    entry = xdr.AccountEntry(
        account_id(address),
        xdr.Int64(100),
        xdr.SequenceNumber(xdr.Int64(1)),
        xdr.Uint32(len(signers)),
        None,
        xdr.Uint32(0),
        xdr.String32(b""),
        xdr.Thresholds(b"\x01\x00\x00\x00"),
        [xdr.Signer(k, xdr.Uint32(1)) for k, _ in signers],
        xdr.AccountEntryExt(1, v1=v1),
    )
    return xdr.LedgerEntry(xdr.Uint32(1), xdr.LedgerEntryData(LK.ACCOUNT, account=entry), xdr.LedgerEntryExt(0))


def sc(t: xdr.SCValType, **arm: Any) -> xdr.SCVal:
    return xdr.SCVal(t, **arm)


def contract_address(raw: bytes) -> xdr.SCAddress:
    return xdr.SCAddress(xdr.SCAddressType.SC_ADDRESS_TYPE_CONTRACT, contract_id=xdr.ContractID(xdr.Hash(raw)))


def account_address(address: str) -> xdr.SCAddress:
    return xdr.SCAddress(xdr.SCAddressType.SC_ADDRESS_TYPE_ACCOUNT, account_id=account_id(address))


def soroban_ext(read_only: list[xdr.LedgerKey], read_write: list[xdr.LedgerKey]) -> xdr.TransactionExt:
    resources = xdr.SorobanResources(
        xdr.LedgerFootprint(read_only, read_write), xdr.Uint32(0), xdr.Uint32(0), xdr.Uint32(0)
    )
    return xdr.TransactionExt(
        1, soroban_data=xdr.SorobanTransactionData(xdr.SorobanTransactionDataExt(0), resources, xdr.Int64(0))
    )


def contract_data_key(contract: bytes, key: xdr.SCVal) -> xdr.LedgerKey:
    return xdr.LedgerKey(
        LK.CONTRACT_DATA,
        contract_data=xdr.LedgerKeyContractData(contract_address(contract), key, xdr.ContractDataDurability.PERSISTENT),
    )


class Tx:
    """One synthetic transaction: operations, outcome, per-operation metas and Soroban parts."""

    def __init__(
        self,
        ops: list[xdr.Operation],
        *,
        successful: bool = True,
        metas: list[list[xdr.LedgerEntryChange]] | None = None,
        results: list[xdr.OperationResult] | None = None,
        ext: xdr.TransactionExt | None = None,
        diagnostic: list[xdr.DiagnosticEvent] | None = None,
        source: xdr.MuxedAccount | None = None,
    ):
        self.ops, self.successful, self.metas, self.ext = ops, successful, metas, ext
        self.results = results
        self.diagnostic = diagnostic
        self.source = source or muxed(ACC3)

    def parts(self, seq_num: int) -> tuple[xdr.TransactionEnvelope, xdr.TransactionResult, xdr.TransactionMeta]:
        tx = xdr.Transaction(
            self.source,
            xdr.Uint32(100),
            xdr.SequenceNumber(xdr.Int64(seq_num)),
            xdr.Preconditions(xdr.PreconditionType.PRECOND_NONE),
            xdr.Memo(xdr.MemoType.MEMO_NONE),
            self.ops,
            self.ext or xdr.TransactionExt(0),
        )
        envelope = xdr.TransactionEnvelope(xdr.EnvelopeType.ENVELOPE_TYPE_TX, v1=xdr.TransactionV1Envelope(tx, []))
        code = xdr.TransactionResultCode.txSUCCESS if self.successful else xdr.TransactionResultCode.txFAILED
        results = self.results
        if results is None:
            results = [xdr.OperationResult(xdr.OperationResultCode.opNOT_SUPPORTED) for _ in self.ops]
        result = xdr.TransactionResult(
            xdr.Int64(100), xdr.TransactionResultResult(code, results=results), xdr.TransactionResultExt(0)
        )
        metas = self.metas or [[] for _ in self.ops]
        op_metas = [xdr.OperationMeta(xdr.LedgerEntryChanges(m)) for m in metas] if self.successful else []
        soroban = None
        if self.diagnostic is not None:
            soroban = xdr.SorobanTransactionMeta(xdr.SorobanTransactionMetaExt(0), [], sc(V.SCV_VOID), self.diagnostic)
        meta = xdr.TransactionMeta(
            3,
            v3=xdr.TransactionMetaV3(
                xdr.ExtensionPoint(0), xdr.LedgerEntryChanges([]), op_metas, xdr.LedgerEntryChanges([]), soroban
            ),
        )
        return envelope, result, meta


@pytest.fixture(scope="module")
def host(shared_ledgers) -> LedgerView:
    """A real ledger (v1 LedgerCloseMeta, protocol 20) whose transactions are replaced by synthetic ones."""
    return load_ledgers("testnet-p20-galexie", 1)[0]


def ledger_with(host: LedgerView, txs: list[Tx], close_time: int | None = None) -> xdr.LedgerCloseMeta:
    lcm = xdr.LedgerCloseMeta.from_xdr_bytes(host.lcm.to_xdr_bytes())
    body = lcm.v1
    if close_time is not None:
        body.ledger_header.header.scp_value.close_time = xdr.TimePoint(xdr.Uint64(close_time))
    net = network_id(host.network_passphrase)
    envelopes, processing = [], []
    for i, t in enumerate(txs):
        envelope, result, meta = t.parts(i + 1)
        envelopes.append(envelope)
        pair = xdr.TransactionResultPair(xdr.Hash(transaction_hash(envelope, net)), result)
        processing.append(xdr.TransactionResultMeta(pair, xdr.LedgerEntryChanges([]), meta))
    component = xdr.TxSetComponent(
        xdr.TxSetComponentType.TXSET_COMP_TXS_MAYBE_DISCOUNTED_FEE,
        txs_maybe_discounted_fee=xdr.TxSetComponentTxsMaybeDiscountedFee(None, envelopes),
    )
    phase = xdr.TransactionPhase(0, v0_components=[component])
    body.tx_set = xdr.GeneralizedTransactionSet(1, v1_tx_set=xdr.TransactionSetV1(xdr.Hash(bytes(32)), [phase]))
    body.tx_processing = processing
    # Round trip: a malformed fixture fails here rather than passing by accident.
    return xdr.LedgerCloseMeta.from_xdr_bytes(lcm.to_xdr_bytes())


def both_paths(host: LedgerView, txs: list[Tx], close_time: int | None = None) -> tuple[Any, Any]:
    """(Python rows or (class, message), native rows or (class, message)) of one ledger of `txs`."""
    lcm = ledger_with(host, txs, close_time)
    try:
        python: Any = operations.transform(LedgerView(lcm, host.network_passphrase))
    except Exception as e:  # noqa: BLE001 - compared with the native error below
        python = (type(e).__name__, str(e))
    blob = _native.decode(lcm.to_xdr_bytes(), "ledger")
    schema_capsule, array_capsule, offsets, error = blob.rows("operations", [0], host.network_passphrase, True)
    if error is not None:
        return python, (error[1], error[2])

    class Capsules:
        def __arrow_c_array__(self, requested_schema=None):
            return schema_capsule, array_capsule

    batch = pa.record_batch(Capsules())
    names = SCHEMA.names
    native_rows = [dict(zip(names, row.values(), strict=True)) for row in batch.to_pylist()]
    assert offsets == [0, len(native_rows)]
    return python, native_rows


def assert_same(host: LedgerView, txs: list[Tx]) -> Any:
    python, fast = both_paths(host, txs)
    if isinstance(python, list) and isinstance(fast, list):
        assert len(fast) == len(python)
        for p, n in zip(python, fast, strict=True):
            assert n == p, f"{p['type_string']}: {n['details']} != {p['details']}"
    else:
        assert fast == python
    return python


# --- the cases -----------------------------------------------------------------------------------


def test_the_synthetic_operation_types_build_the_same_rows(host: LedgerView) -> None:
    rows = assert_same(
        host, [Tx([op(b)]) for b, _ in SYNTHETIC] + [Tx([op(b)], successful=False) for b, _ in SYNTHETIC]
    )
    assert len(rows) == 2 * len(SYNTHETIC)


def _lp_withdraw() -> xdr.OperationBody:
    return body(
        OT.LIQUIDITY_POOL_WITHDRAW,
        liquidity_pool_withdraw_op=xdr.LiquidityPoolWithdrawOp(
            xdr.PoolID(xdr.Hash(POOL_ID)), xdr.Int64(4), xdr.Int64(1), xdr.Int64(1)
        ),
    )


def test_liquidity_pools_sponsorship_data_and_muxed_accounts(host: LedgerView) -> None:
    signer = xdr.SignerKey(xdr.SignerKeyType.SIGNER_KEY_TYPE_ED25519, ed25519=xdr.Uint256(bytes(range(32))))
    set_options = xdr.SetOptionsOp(
        account_id(ACC4),
        xdr.Uint32(16),
        xdr.Uint32(5),
        xdr.Uint32(1),
        None,
        xdr.Uint32(2),
        None,
        xdr.String32(b"ex\xffample<&>.com"),
        xdr.Signer(signer, xdr.Uint32(3)),
    )
    data_entry = xdr.LedgerEntryData(
        LK.DATA, data=xdr.DataEntry(account_id(ACC4), xdr.String64(b"x"), xdr.DataValue(b"v"), xdr.DataEntryExt(0))
    )
    big_mux = muxed(ACC4, 2**64 - 1)
    txs = [
        Tx([op(LP_DEPOSIT)], metas=[update(pool_entry(0, 0, 0), pool_entry(1000, 100, 2))]),
        Tx([op(LP_DEPOSIT)], successful=False),
        Tx([op(_lp_withdraw())], metas=[update(pool_entry(1000, 100, 4), pool_entry(0, 0, 0))]),
        Tx(
            [
                op(
                    body(
                        OT.BEGIN_SPONSORING_FUTURE_RESERVES,
                        begin_sponsoring_future_reserves_op=xdr.BeginSponsoringFutureReservesOp(account_id(ACC4)),
                    ),
                    source=muxed(ZERO_ACC, 7),
                ),
                op(
                    body(
                        OT.MANAGE_DATA, manage_data_op=xdr.ManageDataOp(xdr.String64(b"k\xc3"), xdr.DataValue(b"\x00v"))
                    ),
                    source=muxed(ACC4),
                ),
                op(body(OT.END_SPONSORING_FUTURE_RESERVES), source=big_mux),
            ],
            metas=[[], [created(entry(data_entry, ZERO_ACC))], []],
        ),
        Tx(
            [op(body(OT.SET_OPTIONS, set_options_op=set_options))],
            metas=[update(account_entry(ACC3, []), account_entry(ACC3, [(signer, ACC4)]))],
        ),
        Tx(
            [
                op(body(OT.ACCOUNT_MERGE, destination=muxed(ACC4, 2**63 + 5)), source=muxed(ACC3, 1)),
                op(
                    body(
                        OT.PAYMENT,
                        payment_op=xdr.PaymentOp(muxed(ZERO_ACC, 3), a4(b"AB\x00\x00", ACC4), xdr.Int64(2**63 - 1)),
                    )
                ),
                op(
                    body(
                        OT.CLAWBACK,
                        clawback_op=xdr.ClawbackOp(USSD, muxed(ZERO_ACC, 9), xdr.Int64(123456789)),
                    )
                ),
                op(
                    body(
                        OT.ALLOW_TRUST,
                        allow_trust_op=xdr.AllowTrustOp(
                            account_id(ACC4),
                            xdr.AssetCode(
                                xdr.AssetType.ASSET_TYPE_CREDIT_ALPHANUM12,
                                asset_code12=xdr.AssetCode12(b"LONGCODE\x00\x00\x00\x00"),
                            ),
                            xdr.Uint32(6),
                        ),
                    ),
                    source=muxed(ACC3, 11),
                ),
            ]
        ),
    ]
    rows = assert_same(host, txs)
    assert any('"sponsor":' in r["details"] for r in rows) and any("_muxed_id" in r["details"] for r in rows)


def _predicate(t: xdr.ClaimPredicateType, **arm: Any) -> xdr.ClaimPredicate:
    return xdr.ClaimPredicate(t, **arm)


def test_claim_predicates_and_balances(host: LedgerView) -> None:
    P = xdr.ClaimPredicateType
    inner = [
        _predicate(P.CLAIM_PREDICATE_BEFORE_ABSOLUTE_TIME, abs_before=xdr.Int64(2**63 - 1)),
        _predicate(P.CLAIM_PREDICATE_BEFORE_ABSOLUTE_TIME, abs_before=xdr.Int64(-(2**40))),
        _predicate(P.CLAIM_PREDICATE_BEFORE_RELATIVE_TIME, rel_before=xdr.Int64(3600)),
        _predicate(P.CLAIM_PREDICATE_NOT, not_predicate=_predicate(P.CLAIM_PREDICATE_UNCONDITIONAL)),
    ]
    predicate = _predicate(
        P.CLAIM_PREDICATE_AND,
        and_predicates=[
            _predicate(P.CLAIM_PREDICATE_OR, or_predicates=inner[:2]),
            _predicate(P.CLAIM_PREDICATE_OR, or_predicates=inner[2:]),
        ],
    )
    claimants = [
        xdr.Claimant(xdr.ClaimantType.CLAIMANT_TYPE_V0, v0=xdr.ClaimantV0(account_id(ACC4), predicate)),
        xdr.Claimant(
            xdr.ClaimantType.CLAIMANT_TYPE_V0,
            v0=xdr.ClaimantV0(
                account_id(ZERO_ACC),
                _predicate(P.CLAIM_PREDICATE_BEFORE_ABSOLUTE_TIME, abs_before=xdr.Int64(1719250080)),
            ),
        ),
    ]
    balance_id = xdr.ClaimableBalanceID(xdr.ClaimableBalanceIDType.CLAIMABLE_BALANCE_ID_TYPE_V0, v0=xdr.Hash(POOL_ID))
    txs = [
        Tx(
            [
                op(
                    body(
                        OT.CREATE_CLAIMABLE_BALANCE,
                        create_claimable_balance_op=xdr.CreateClaimableBalanceOp(USSD, xdr.Int64(1), claimants),
                    )
                ),
                op(
                    body(
                        OT.CLAIM_CLAIMABLE_BALANCE,
                        claim_claimable_balance_op=xdr.ClaimClaimableBalanceOp(balance_id),
                    ),
                    source=muxed(ACC4, 4),
                ),
            ]
        )
    ]
    assert_same(host, txs)


def _sac_event(network_passphrase: str, topics: list[xdr.SCVal], data: xdr.SCVal, asset: Asset) -> xdr.DiagnosticEvent:
    contract = asset_contract_id(asset.to_xdr_object(), network_passphrase)
    event = xdr.ContractEvent(
        xdr.ExtensionPoint(0),
        xdr.ContractID(xdr.Hash(contract)),
        xdr.ContractEventType.CONTRACT,
        xdr.ContractEventBody(0, v0=xdr.ContractEventV0(topics, data)),
    )
    return xdr.DiagnosticEvent(True, event)


def _i128(value: int) -> xdr.SCVal:
    return sc(V.SCV_I128, i128=xdr.Int128Parts(xdr.Int64(value >> 64), xdr.Uint64(value & (2**64 - 1))))


def test_soroban_operations(host: LedgerView) -> None:
    pp = host.network_passphrase
    usdc = Asset("USDC", ACC4)
    sym = lambda s: sc(V.SCV_SYMBOL, sym=xdr.SCSymbol(s))  # noqa: E731
    text = lambda s: sc(V.SCV_STRING, str=xdr.SCString(s))  # noqa: E731
    addr = lambda a: sc(V.SCV_ADDRESS, address=account_address(a))  # noqa: E731
    events = [
        _sac_event(
            pp, [sym(b"transfer"), addr(ACC3), addr(ACC4), text(f"USDC:{ACC4}".encode())], _i128(-(2**100)), usdc
        ),
        _sac_event(pp, [sym(b"mint"), addr(ACC3), addr(ACC4), text(b"native")], _i128(5), Asset.native()),
        _sac_event(pp, [sym(b"burn"), addr(ACC3), text(f"USDC:{ACC4}".encode())], _i128(12345678), usdc),
        _sac_event(pp, [sym(b"clawback"), addr(ACC3), addr(ACC4), text(f"USDC:{ACC4}".encode())], _i128(1), usdc),
        # Not balance changes: a wrong asset for the contract, a bad issuer, a non-i128 amount, 3-topic mint.
        _sac_event(pp, [sym(b"transfer"), addr(ACC3), addr(ACC4), text(b"native")], _i128(1), usdc),
        _sac_event(pp, [sym(b"transfer"), addr(ACC3), addr(ACC4), text(b"USDC:GBAD")], _i128(1), usdc),
        _sac_event(
            pp,
            [sym(b"transfer"), addr(ACC3), addr(ACC4), text(f"USDC:{ACC4}".encode())],
            sc(V.SCV_U32, u32=xdr.Uint32(1)),
            usdc,
        ),
        _sac_event(pp, [sym(b"mint"), addr(ACC4), text(f"USDC:{ACC4}".encode())], _i128(1), usdc),
    ]
    scmap = xdr.SCMap([xdr.SCMapEntry(sym(b"a<b"), sc(V.SCV_VEC, vec=None))])
    args = [
        sc(V.SCV_BOOL, b=True),
        sc(V.SCV_VOID),
        sc(V.SCV_ERROR, error=xdr.SCError(xdr.SCErrorType.SCE_CONTRACT, contract_code=xdr.Uint32(7))),
        sc(V.SCV_ERROR, error=xdr.SCError(xdr.SCErrorType.SCE_AUTH, code=xdr.SCErrorCode.SCEC_INVALID_ACTION)),
        sc(V.SCV_U64, u64=xdr.Uint64(2**64 - 1)),
        sc(V.SCV_I64, i64=xdr.Int64(-5)),
        sc(V.SCV_TIMEPOINT, timepoint=xdr.TimePoint(xdr.Uint64(2**64 - 1))),
        sc(V.SCV_DURATION, duration=xdr.Duration(xdr.Uint64(60))),
        sc(V.SCV_U128, u128=xdr.UInt128Parts(xdr.Uint64(1), xdr.Uint64(2))),
        _i128(-(2**127)),
        sc(V.SCV_U256, u256=xdr.UInt256Parts(*(xdr.Uint64(2**64 - 1) for _ in range(4)))),
        sc(V.SCV_I256, i256=xdr.Int256Parts(xdr.Int64(-1), xdr.Uint64(0), xdr.Uint64(0), xdr.Uint64(5))),
        sc(V.SCV_BYTES, bytes=xdr.SCBytes(b"\x00\xff")),
        text(b"caf\xc3\xa9 & <\xff>\\\n"),
        sc(V.SCV_MAP, map=scmap),
        sc(V.SCV_VEC, vec=xdr.SCVec([sc(V.SCV_U32, u32=xdr.Uint32(1)), sc(V.SCV_I32, i32=xdr.Int32(-1))])),
        sc(
            V.SCV_CONTRACT_INSTANCE,
            instance=xdr.SCContractInstance(
                xdr.ContractExecutable(xdr.ContractExecutableType.CONTRACT_EXECUTABLE_STELLAR_ASSET), scmap
            ),
        ),
        sc(V.SCV_LEDGER_KEY_CONTRACT_INSTANCE),
        sc(V.SCV_LEDGER_KEY_NONCE, nonce_key=xdr.SCNonceKey(xdr.Int64(-255))),
        sc(V.SCV_ADDRESS, address=contract_address(bytes(range(32)))),
    ]
    invoke = xdr.HostFunction(
        xdr.HostFunctionType.HOST_FUNCTION_TYPE_INVOKE_CONTRACT,
        invoke_contract=xdr.InvokeContractArgs(contract_address(bytes(32)), xdr.SCSymbol(b"swap"), args),
    )
    wasm = xdr.ContractExecutable(xdr.ContractExecutableType.CONTRACT_EXECUTABLE_WASM, wasm_hash=xdr.Hash(bytes(32)))
    from_address = xdr.ContractIDPreimage(
        xdr.ContractIDPreimageType.CONTRACT_ID_PREIMAGE_FROM_ADDRESS,
        from_address=xdr.ContractIDPreimageFromAddress(account_address(ACC3), xdr.Uint256(bytes(32))),
    )
    from_asset = xdr.ContractIDPreimage(
        xdr.ContractIDPreimageType.CONTRACT_ID_PREIMAGE_FROM_ASSET, from_asset=usdc.to_xdr_object()
    )
    create = xdr.HostFunction(
        xdr.HostFunctionType.HOST_FUNCTION_TYPE_CREATE_CONTRACT,
        create_contract=xdr.CreateContractArgs(from_asset, wasm),
    )
    create_v2 = xdr.HostFunction(
        xdr.HostFunctionType.HOST_FUNCTION_TYPE_CREATE_CONTRACT_V2,
        create_contract_v2=xdr.CreateContractArgsV2(from_address, wasm, args[:3]),
    )
    upload = xdr.HostFunction(xdr.HostFunctionType.HOST_FUNCTION_TYPE_UPLOAD_CONTRACT_WASM, wasm=b"\x00asm")
    footprint = soroban_ext(
        [
            contract_data_key(bytes(range(32)), sym(b"k")),
            xdr.LedgerKey(LK.ACCOUNT, account=xdr.LedgerKeyAccount(account_id(ACC3))),
        ],
        [contract_data_key(bytes(32), sym(b"balance"))],
    )
    ihf = lambda fn: body(OT.INVOKE_HOST_FUNCTION, invoke_host_function_op=xdr.InvokeHostFunctionOp(fn, []))  # noqa: E731
    txs = [
        Tx([op(ihf(invoke))], ext=footprint, diagnostic=events),
        Tx([op(ihf(create))], ext=footprint, diagnostic=[]),
        Tx([op(ihf(create_v2))], ext=soroban_ext([], [])),
        Tx([op(ihf(upload))], ext=soroban_ext([], [])),
        Tx(
            [
                op(
                    body(
                        OT.EXTEND_FOOTPRINT_TTL,
                        extend_footprint_ttl_op=xdr.ExtendFootprintTTLOp(xdr.ExtensionPoint(0), xdr.Uint32(99)),
                    )
                )
            ],
            ext=footprint,
        ),
        Tx(
            [op(body(OT.RESTORE_FOOTPRINT, restore_footprint_op=xdr.RestoreFootprintOp(xdr.ExtensionPoint(0))))],
            ext=soroban_ext([], []),
        ),
    ]
    rows = assert_same(host, txs)
    assert '"asset_balance_changes":[{' in rows[0]["details"] and '"a<b"' in rows[0]["details"]


# --- failures: the same class and message on both paths --------------------------------------------


def _strict_send() -> xdr.OperationBody:
    return body(
        OT.PATH_PAYMENT_STRICT_SEND,
        path_payment_strict_send_op=xdr.PathPaymentStrictSendOp(
            NATIVE, xdr.Int64(10), muxed(ACC4), USSD, xdr.Int64(1), [USSD]
        ),
    )


FAILURES: dict[str, Callable[[], list[Tx]]] = {
    "path payment without a result body": lambda: [Tx([op(_strict_send())])],
    "fewer results than operations": lambda: [Tx([op(_strict_send()), op(_strict_send())], results=[])],
    "no pool change": lambda: [Tx([op(LP_DEPOSIT)])],
    "an update without its state": lambda: [
        Tx([op(LP_DEPOSIT)], metas=[[xdr.LedgerEntryChange(C.LEDGER_ENTRY_UPDATED, updated=pool_entry(1, 1, 1))]])
    ],
    "a zero price denominator": lambda: [
        Tx(
            [
                op(
                    body(
                        OT.MANAGE_SELL_OFFER,
                        manage_sell_offer_op=xdr.ManageSellOfferOp(
                            USSD, NATIVE, xdr.Int64(1), xdr.Price(xdr.Int32(1), xdr.Int32(0)), xdr.Int64(0)
                        ),
                    )
                )
            ]
        )
    ],
    "soroban operation without soroban data": lambda: [
        Tx([op(body(OT.RESTORE_FOOTPRINT, restore_footprint_op=xdr.RestoreFootprintOp(xdr.ExtensionPoint(0))))])
    ],
}


@pytest.mark.parametrize("case", list(FAILURES))
def test_failures_have_the_same_class_and_message(host: LedgerView, case: str) -> None:
    python, fast = both_paths(host, FAILURES[case]())
    assert isinstance(python, tuple), f"{case}: the reference did not fail"
    assert fast == python


@pytest.mark.parametrize(
    "close_time",
    [253402300799, 253402300800, 2**40, 67768036191676799, 67768036191676800, 2**63 - 1, 2**63, 2**64 - 1],
)
def test_close_times_beyond_python_datetimes_fail_alike(host: LedgerView, close_time: int) -> None:
    """The reference's closed_at is a datetime: past year 9999 it raises, and so must the core, in the same words."""
    txs = [Tx([op(body(OT.INFLATION))])]
    python, fast = both_paths(host, txs, close_time)
    assert fast == python
    assert isinstance(python, tuple) == (close_time > 253402300799)


def test_sac_contract_id_is_the_reference_one(host: LedgerView) -> None:
    """The SAC balance-change test above is only meaningful if the contract ids agree; pin one value."""
    net = network_id(host.network_passphrase)
    preimage = b"\x00\x00\x00\x08" + net + b"\x00\x00\x00\x01" + Asset.native().to_xdr_object().to_xdr_bytes()
    assert asset_contract_id(NATIVE, host.network_passphrase) == hashlib.sha256(preimage).digest()
