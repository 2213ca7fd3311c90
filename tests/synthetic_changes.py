"""A real ledger with the entry changes and results no data store of ../shared/ledgers holds, added.

No stored ledger changes a config setting or a contract code entry (upgrades are rare, and Wasm
uploads happen outside the sampled ledgers), and none holds a Stellar Asset Contract instance, so
the native core's `config_settings`, `contract_code` and `contract_data`'s asset columns could not
be compared with the Python path on real data alone. This takes a ledger of the protocol 25
store and appends a ledger upgrade whose changes update every config setting arm stellar_sdk knows
(protocol 26's frozen ledger keys and freeze-bypass transactions included, their keys real LedgerKeys of
every shape); create, update, remove and restore contract code entries (ext v0 and v1); and create SAC
instance entries (native, alphanum4, alphanum12, a code with a NUL, wrong contract ids), SAC-shaped balance
entries (contract and account holders, a negative amount), a nonce entry, and a TTL extended twice.
Field values are drawn from a seeded generator over each XDR type's whole range, so sign and width
mistakes show. The result is a LedgerCloseMetaBatch as a data store object holds it.

`frozen_results_blob` is the same ledger with protocol 26's new result codes (``txFROZEN_KEY_ACCESSED``
and the ``..._TRUSTLINE_FROZEN`` operation results) in place of a few payments' results.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import random
import struct

import zstandard
from stellar_sdk import xdr

from beam_pipeline.config import NETWORKS
from beam_pipeline.sources.base import BATCH, LedgerBlob
from beam_pipeline.xdr.ledger import ledger_key
from tests.harness import DATASTORES

PASSPHRASE = NETWORKS["standalone"]
STORE = "standalone-p25-loadtest"

_NUMBERS = {
    "Uint32": (0, 1 << 32),
    "Int64": (-(1 << 63), 1 << 63),
    # Every uint64 column is stored int64 (docs/tables.md): a value past 2^63 - 1 fails its ledger on both paths
    # (tests/test_native.py tests that on its own), so the upgrade's values stay within int64 whatever the seed.
    "Uint64": (0, 1 << 63),
}


def _value(annotation: str, rng: random.Random):
    """A value of the XDR type named by a stellar_sdk annotation ('Uint32', 'list[X]', a struct name)."""
    name = annotation.split(" | ")[0]
    if name.startswith("list["):
        return [_value(name[5:-1], rng) for _ in range(rng.randrange(1, 5))]
    if name == "bool":
        return rng.random() < 0.5
    if name in _NUMBERS:
        low, high = _NUMBERS[name]
        return getattr(xdr, name)(rng.choice([low, high - 1, rng.randrange(low, high)]))
    if name == "ExtensionPoint":
        return xdr.ExtensionPoint(0)
    if name == "Hash":
        return xdr.Hash(rng.randbytes(32))
    if name == "EncodedLedgerKey":
        return xdr.EncodedLedgerKey(rng.choice(_ledger_keys(rng)).to_xdr_bytes())
    cls = getattr(xdr, name)
    params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    return cls(*(_value(p.annotation, rng) for p in params))


def _account_id(key: bytes) -> xdr.AccountID:
    return xdr.AccountID(xdr.PublicKey(xdr.PublicKeyType.PUBLIC_KEY_TYPE_ED25519, xdr.Uint256(key)))


def _ledger_keys(rng: random.Random) -> list[xdr.LedgerKey]:
    """A LedgerKey of each shape a frozen-key setting may name (padded strings, nested ScVals included)."""
    t = xdr.LedgerEntryType
    owner = _account_id(rng.randbytes(32))
    contract_key = _vec(_sym("Balance"), xdr.SCVal(xdr.SCValType.SCV_BYTES, bytes=xdr.SCBytes(rng.randbytes(5))))
    return [
        xdr.LedgerKey(t.ACCOUNT, account=xdr.LedgerKeyAccount(owner)),
        xdr.LedgerKey(
            t.TRUSTLINE,
            trust_line=xdr.LedgerKeyTrustLine(owner, xdr.TrustLineAsset(xdr.AssetType.ASSET_TYPE_NATIVE)),
        ),
        xdr.LedgerKey(t.DATA, data=xdr.LedgerKeyData(owner, xdr.String64(b"abcde"))),
        xdr.LedgerKey(
            t.CONTRACT_DATA,
            contract_data=xdr.LedgerKeyContractData(
                _contract(rng.randbytes(32)), contract_key, xdr.ContractDataDurability.PERSISTENT
            ),
        ),
        xdr.LedgerKey(t.CONTRACT_CODE, contract_code=xdr.LedgerKeyContractCode(xdr.Hash(rng.randbytes(32)))),
        xdr.LedgerKey(t.TTL, ttl=xdr.LedgerKeyTtl(xdr.Hash(rng.randbytes(32)))),
    ]


def _entry(seq: int, data: xdr.LedgerEntryData) -> xdr.LedgerEntry:
    return xdr.LedgerEntry(xdr.Uint32(seq), data, xdr.LedgerEntryExt(0))


def _config_setting(setting: xdr.ConfigSettingID, rng: random.Random) -> xdr.LedgerEntryData:
    params = list(inspect.signature(xdr.ConfigSettingEntry.__init__).parameters.values())[2:]
    arm = params[setting.value]  # the arms follow the ids in order
    entry = xdr.ConfigSettingEntry(setting, **{arm.name: _value(arm.annotation, rng)})
    return xdr.LedgerEntryData(xdr.LedgerEntryType.CONFIG_SETTING, config_setting=entry)


def _contract_code(v: int, rng: random.Random) -> xdr.LedgerEntryData:
    ext = xdr.ContractCodeEntryExt(1, v1=_value("ContractCodeEntryV1", rng)) if v else xdr.ContractCodeEntryExt(0)
    code = xdr.ContractCodeEntry(ext, xdr.Hash(rng.randbytes(32)), b"\0asm" + rng.randbytes(rng.randrange(8)))
    return xdr.LedgerEntryData(xdr.LedgerEntryType.CONTRACT_CODE, contract_code=code)


def _sym(name: str) -> xdr.SCVal:
    return xdr.SCVal(xdr.SCValType.SCV_SYMBOL, sym=xdr.SCSymbol(name.encode()))


def _vec(*items: xdr.SCVal) -> xdr.SCVal:
    return xdr.SCVal(xdr.SCValType.SCV_VEC, vec=xdr.SCVec(list(items)))


def _map(*pairs: tuple[xdr.SCVal, xdr.SCVal]) -> xdr.SCVal:
    return xdr.SCVal(xdr.SCValType.SCV_MAP, map=xdr.SCMap([xdr.SCMapEntry(k, v) for k, v in pairs]))


def _contract(contract_id: bytes) -> xdr.SCAddress:
    return xdr.SCAddress(xdr.SCAddressType.SC_ADDRESS_TYPE_CONTRACT, contract_id=xdr.ContractID(xdr.Hash(contract_id)))


def _sac_id(asset: xdr.Asset) -> bytes:
    """The asset's Stellar Asset Contract id on the synthetic ledger's network."""
    preimage = xdr.HashIDPreimage(
        xdr.EnvelopeType.ENVELOPE_TYPE_CONTRACT_ID,
        contract_id=xdr.HashIDPreimageContractID(
            xdr.Hash(hashlib.sha256(PASSPHRASE.encode()).digest()),
            xdr.ContractIDPreimage(xdr.ContractIDPreimageType.CONTRACT_ID_PREIMAGE_FROM_ASSET, from_asset=asset),
        ),
    )
    return hashlib.sha256(preimage.to_xdr_bytes()).digest()


def _credit(code: bytes, issuer: bytes) -> xdr.Asset:
    account = _account_id(issuer)
    if len(code) <= 4:
        body = xdr.AlphaNum4(xdr.AssetCode4(code.ljust(4, b"\0")), account)
        return xdr.Asset(xdr.AssetType.ASSET_TYPE_CREDIT_ALPHANUM4, alpha_num4=body)
    body = xdr.AlphaNum12(xdr.AssetCode12(code.ljust(12, b"\0")), account)
    return xdr.Asset(xdr.AssetType.ASSET_TYPE_CREDIT_ALPHANUM12, alpha_num12=body)


def _contract_data(contract_id: bytes, key: xdr.SCVal, val: xdr.SCVal, temporary: bool = False) -> xdr.LedgerEntryData:
    durability = xdr.ContractDataDurability.TEMPORARY if temporary else xdr.ContractDataDurability.PERSISTENT
    entry = xdr.ContractDataEntry(xdr.ExtensionPoint(0), _contract(contract_id), key, durability, val)
    return xdr.LedgerEntryData(xdr.LedgerEntryType.CONTRACT_DATA, contract_data=entry)


def _sac_instance(contract_id: bytes, kind: str, code: bytes, issuer: bytes) -> xdr.LedgerEntryData:
    """A SAC instance entry whose storage says (kind, code, issuer), behind another storage entry."""
    body = _map(
        (_sym("asset_code"), xdr.SCVal(xdr.SCValType.SCV_STRING, str=xdr.SCString(code))),
        (_sym("issuer"), xdr.SCVal(xdr.SCValType.SCV_BYTES, bytes=xdr.SCBytes(issuer))),
    )
    storage = xdr.SCMap(
        [
            xdr.SCMapEntry(_sym("METADATA"), _vec(_sym(kind))),
            xdr.SCMapEntry(_vec(_sym("AssetInfo")), _vec(_sym(kind), body)),
        ]
    )
    executable = xdr.ContractExecutable(xdr.ContractExecutableType.CONTRACT_EXECUTABLE_STELLAR_ASSET)
    instance = xdr.SCVal(xdr.SCValType.SCV_CONTRACT_INSTANCE, instance=xdr.SCContractInstance(executable, storage))
    return _contract_data(contract_id, xdr.SCVal(xdr.SCValType.SCV_LEDGER_KEY_CONTRACT_INSTANCE), instance)


def _balance(contract_id: bytes, holder: xdr.SCAddress, hi: int, lo: int) -> xdr.LedgerEntryData:
    amount = xdr.SCVal(xdr.SCValType.SCV_I128, i128=xdr.Int128Parts(xdr.Int64(hi), xdr.Uint64(lo)))
    flag = xdr.SCVal(xdr.SCValType.SCV_BOOL, b=True)
    val = _map((_sym("amount"), amount), (_sym("authorized"), flag), (_sym("clawback"), flag))
    key = _vec(_sym("Balance"), xdr.SCVal(xdr.SCValType.SCV_ADDRESS, address=holder))
    return _contract_data(contract_id, key, val)


def _sac_entries(rng: random.Random) -> list[xdr.LedgerEntryData]:
    issuer = rng.randbytes(32)
    usd, long12, nul = _credit(b"USD", issuer), _credit(b"LONGCODE12AB", issuer), _credit(b"AB\0C", issuer)
    native = xdr.Asset(xdr.AssetType.ASSET_TYPE_NATIVE)
    account = xdr.SCAddress(xdr.SCAddressType.SC_ADDRESS_TYPE_ACCOUNT, account_id=_account_id(issuer))
    nonce = xdr.SCVal(xdr.SCValType.SCV_LEDGER_KEY_NONCE, nonce_key=xdr.SCNonceKey(xdr.Int64(-5)))
    return [
        _sac_instance(_sac_id(usd), "AlphaNum4", b"USD", issuer),
        _sac_instance(_sac_id(long12), "AlphaNum12", b"LONGCODE12AB", issuer),
        _sac_instance(_sac_id(nul), "AlphaNum4", b"AB\0C", issuer),
        _sac_instance(_sac_id(native), "Native", b"XLM", issuer),
        _sac_instance(_sac_id(usd)[::-1], "AlphaNum4", b"USD", issuer),  # not that asset's contract
        _sac_instance(_sac_id(_credit(b"EUR", issuer)), "Native", b"EUR", issuer),  # a credit body, Native tag
        _balance(_sac_id(usd), _contract(rng.randbytes(32)), rng.randrange(1 << 62), rng.randrange(1 << 64)),
        _balance(_sac_id(usd), _contract(rng.randbytes(32)), -1, rng.randrange(1 << 64)),  # negative: not decoded
        _balance(_sac_id(usd), account, 0, 5),  # an account holder: its balance lives in a trustline
        _contract_data(rng.randbytes(32), nonce, xdr.SCVal(xdr.SCValType.SCV_VOID)),  # skipped
        _contract_data(rng.randbytes(32), _sym("temp"), _vec(_sym("x")), temporary=True),
    ]


def _changes(seq: int, rng: random.Random) -> list[xdr.LedgerEntryChange]:
    t = xdr.LedgerEntryChangeType
    out = []

    def state_then(before: xdr.LedgerEntryData, after: xdr.LedgerEntryData | None) -> None:
        """The entry's state, then its update to `after` (or its removal when None)."""
        state = _entry(seq - 7, before)
        out.append(xdr.LedgerEntryChange(t.LEDGER_ENTRY_STATE, state=state))
        if after is None:
            out.append(xdr.LedgerEntryChange(t.LEDGER_ENTRY_REMOVED, removed=ledger_key(state)))
        else:
            out.append(xdr.LedgerEntryChange(t.LEDGER_ENTRY_UPDATED, updated=_entry(seq, after)))

    for setting in xdr.ConfigSettingID:
        # a new value of the same setting: keep the id, draw the arm again
        state_then(_config_setting(setting, rng), _config_setting(setting, rng))
    for v in (0, 1, 1, 0):
        out.append(xdr.LedgerEntryChange(t.LEDGER_ENTRY_CREATED, created=_entry(seq, _contract_code(v, rng))))
    before, after = _contract_code(0, rng), _contract_code(1, rng)
    after.contract_code.hash = before.contract_code.hash
    state_then(before, after)
    state_then(_contract_code(0, rng), None)
    out.append(xdr.LedgerEntryChange(t.LEDGER_ENTRY_RESTORED, restored=_entry(seq - 3, _contract_code(1, rng))))
    for data in _sac_entries(rng):
        out.append(xdr.LedgerEntryChange(t.LEDGER_ENTRY_CREATED, created=_entry(seq, data)))
    # a TTL extended twice, the second time to less: compaction keeps the larger live_until (CAP-63)
    key_hash = xdr.Hash(rng.randbytes(32))
    ttl = [xdr.LedgerEntryData(xdr.LedgerEntryType.TTL, ttl=xdr.TTLEntry(key_hash, xdr.Uint32(n))) for n in (9, 30, 20)]
    state_then(ttl[0], ttl[1])
    state_then(ttl[1], ttl[2])
    return out


def soroban_upgrade(seq: int) -> xdr.UpgradeEntryMeta:
    """An upgrade of ledger `seq` with the changes described above (the same for the same `seq`)."""
    rng = random.Random(seq)
    upgrade = xdr.LedgerUpgrade(xdr.LedgerUpgradeType.LEDGER_UPGRADE_BASE_FEE, new_base_fee=xdr.Uint32(100))
    return xdr.UpgradeEntryMeta(upgrade, xdr.LedgerEntryChanges(_changes(seq, rng)))


def _store_ledger() -> tuple[xdr.LedgerCloseMetaBatch, xdr.LedgerCloseMetaV2, int]:
    """The p25 store's first object cut to its first ledger (10077, the last one): (batch, its body, sequence)."""
    path = sorted((DATASTORES / STORE).glob("*/*.xdr.zst*"))[0]
    data = zstandard.ZstdDecompressor().stream_reader(path.read_bytes(), read_across_frames=True).read()
    batch = xdr.LedgerCloseMetaBatch.from_xdr_bytes(data)
    lcm = batch.ledger_close_metas[0]
    seq = lcm.v2.ledger_header.header.ledger_seq.uint32
    batch.ledger_close_metas = [lcm]
    batch.start_sequence = batch.end_sequence = xdr.Uint32(seq)
    return batch, lcm.v2, seq


def _blob(batch: xdr.LedgerCloseMetaBatch, seq: int, name: str) -> LedgerBlob:
    out = batch.to_xdr_bytes()
    assert struct.unpack(">II", out[:8]) == (seq, seq)
    return LedgerBlob(f"{name}-{seq}", BATCH, out, seq, seq, seq, seq)


@functools.cache
def config_and_code_blob() -> LedgerBlob:
    """The store's ledger with the upgrade described above appended."""
    batch, body, seq = _store_ledger()
    body.upgrades_processing.append(soroban_upgrade(seq))
    return _blob(batch, seq, "synthetic-config-and-code")


def _frozen_results() -> list[xdr.TransactionResultResult]:
    """Protocol 26's new failures: a frozen key accessed (no operation results), a frozen trustline (three ops)."""
    code, op = xdr.TransactionResultCode, xdr.OperationType
    inner = [
        xdr.OperationResultTr(
            op.CLAIM_CLAIMABLE_BALANCE,
            claim_claimable_balance_result=xdr.ClaimClaimableBalanceResult(
                xdr.ClaimClaimableBalanceResultCode.CLAIM_CLAIMABLE_BALANCE_TRUSTLINE_FROZEN
            ),
        ),
        xdr.OperationResultTr(
            op.LIQUIDITY_POOL_DEPOSIT,
            liquidity_pool_deposit_result=xdr.LiquidityPoolDepositResult(
                xdr.LiquidityPoolDepositResultCode.LIQUIDITY_POOL_DEPOSIT_TRUSTLINE_FROZEN
            ),
        ),
        xdr.OperationResultTr(
            op.LIQUIDITY_POOL_WITHDRAW,
            liquidity_pool_withdraw_result=xdr.LiquidityPoolWithdrawResult(
                xdr.LiquidityPoolWithdrawResultCode.LIQUIDITY_POOL_WITHDRAW_TRUSTLINE_FROZEN
            ),
        ),
    ]
    failed = [
        xdr.TransactionResultResult(code.txFAILED, results=[xdr.OperationResult(xdr.OperationResultCode.opINNER, tr)])
        for tr in inner
    ]
    return [xdr.TransactionResultResult(code.txFROZEN_KEY_ACCESSED), *failed]


@functools.cache
def frozen_results_blob() -> LedgerBlob:
    """The store's ledger with the results of its first payments (one operation each) replaced by
    `_frozen_results`; envelopes and metas stay as they were, as the tables read results independently."""
    batch, body, seq = _store_ledger()
    results = _frozen_results()
    for tp in body.tx_processing:
        op_results = tp.result.result.result.results
        if results and op_results and op_results[0].tr.type == xdr.OperationType.PAYMENT:
            tp.result.result.result = results.pop()
    assert not results, "the ledger has too few payments"
    return _blob(batch, seq, "synthetic-frozen-results")
