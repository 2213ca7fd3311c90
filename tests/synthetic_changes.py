"""A real ledger with the entry changes no data store of ../shared/ledgers holds, added.

No stored ledger changes a config setting or a contract code entry (upgrades are rare, and Wasm
uploads happen outside the sampled ledgers), so the native core's `config_settings` and
`contract_code` could not be compared with the Python path on real data alone. This takes the
first ledger of the protocol 25 store and appends a ledger upgrade whose changes update every
config setting arm protocol 25 knows and create, update, remove and restore contract code entries
(ext v0 and v1). Field values are drawn from a seeded generator over each XDR type's whole range, so
sign and width mistakes show. The result is a LedgerCloseMetaBatch as a data store object holds it.
"""

from __future__ import annotations

import functools
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
# The config settings protocol 25's XDR has (stellar_sdk knows later ones the native core's XDR does not).
LAST_P25_SETTING = xdr.ConfigSettingID.CONFIG_SETTING_SCP_TIMING

_NUMBERS = {
    "Uint32": (0, 1 << 32),
    "Int64": (-(1 << 63), 1 << 63),
    "Uint64": (0, 1 << 64),
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
    cls = getattr(xdr, name)
    params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    return cls(*(_value(p.annotation, rng) for p in params))


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
        if setting.value > LAST_P25_SETTING.value:
            break
        # a new value of the same setting: keep the id, draw the arm again
        state_then(_config_setting(setting, rng), _config_setting(setting, rng))
    for v in (0, 1, 1, 0):
        out.append(xdr.LedgerEntryChange(t.LEDGER_ENTRY_CREATED, created=_entry(seq, _contract_code(v, rng))))
    before, after = _contract_code(0, rng), _contract_code(1, rng)
    after.contract_code.hash = before.contract_code.hash
    state_then(before, after)
    state_then(_contract_code(0, rng), None)
    out.append(xdr.LedgerEntryChange(t.LEDGER_ENTRY_RESTORED, restored=_entry(seq - 3, _contract_code(1, rng))))
    return out


@functools.cache
def config_and_code_blob() -> LedgerBlob:
    """The first ledger of the p25 store with an upgrade changing every config setting and contract code."""
    path = sorted((DATASTORES / STORE).glob("*/*.xdr.zst*"))[0]
    data = zstandard.ZstdDecompressor().stream_reader(path.read_bytes(), read_across_frames=True).read()
    batch = xdr.LedgerCloseMetaBatch.from_xdr_bytes(data)
    lcm = batch.ledger_close_metas[0]
    body = lcm.v2
    seq = body.ledger_header.header.ledger_seq.uint32
    rng = random.Random(seq)
    upgrade = xdr.LedgerUpgrade(xdr.LedgerUpgradeType.LEDGER_UPGRADE_BASE_FEE, new_base_fee=xdr.Uint32(100))
    body.upgrades_processing.append(xdr.UpgradeEntryMeta(upgrade, xdr.LedgerEntryChanges(_changes(seq, rng))))
    batch.ledger_close_metas = [lcm]
    batch.start_sequence = batch.end_sequence = xdr.Uint32(seq)
    out = batch.to_xdr_bytes()
    assert struct.unpack(">II", out[:8]) == (seq, seq)
    return LedgerBlob(f"synthetic-config-and-code-{seq}", BATCH, out, seq, seq, seq, seq)
