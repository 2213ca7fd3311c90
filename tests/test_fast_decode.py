"""The fast decode path (xdr/fast.py) must give every table exactly the rows of plain stellar_sdk.

Every data store of ../shared/ledgers is decoded both ways and every registered table's transform
runs on both; rows must be equal value for value, raw XDR columns byte for byte. The big stores
contribute their first few ledgers, to keep this under a minute.
"""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
import zstandard
from stellar_sdk import xdr

from beam_pipeline.records import get_table, table_names
from beam_pipeline.sources import sep54
from beam_pipeline.xdr import fast
from beam_pipeline.xdr.ledger import LedgerView, decode_batch, transaction_hash
from tests.harness import DATASTORES

MAX_LEDGERS = 2


def _stores() -> list[str]:
    return sorted(p.name for p in DATASTORES.iterdir() if (p / ".config.json").is_file())


def _blobs(root: Path) -> list[bytes]:
    """Decompressed objects at their formula keys (root-level duplicates skipped), first few ledgers."""
    out, ledgers = [], 0
    for path in sorted(root.glob("*/*.xdr.zst*")):
        data = zstandard.ZstdDecompressor().stream_reader(path.read_bytes(), read_across_frames=True).read()
        out.append(data)
        start, end = struct.unpack(">II", data[:8])
        ledgers += end - start + 1
        if ledgers >= MAX_LEDGERS:
            break
    return out


def _rows(data: bytes, passphrase: str, fast_path: bool) -> dict[tuple[int, str], list[dict]]:
    rows = {}
    for lcm in decode_batch(data, fast_path=fast_path).ledger_close_metas[:MAX_LEDGERS]:
        view = LedgerView(lcm, passphrase, "test")
        for name in table_names():
            rows[(view.sequence, name)] = get_table(name).transform(view)
    return rows


@pytest.mark.parametrize("store", _stores())
def test_fast_path_rows_equal_stellar_sdk_rows(store, shared_ledgers):
    root = DATASTORES / store
    passphrase = sep54.parse_manifest((root / ".config.json").read_text(), store).network_passphrase
    blobs = _blobs(root)
    assert blobs, f"{store}: no objects"
    total = 0
    for data in blobs:
        slow, quick = _rows(data, passphrase, False), _rows(data, passphrase, True)
        assert slow.keys() == quick.keys()
        for key in slow:
            assert quick[key] == slow[key], f"{store} ledger {key[0]} table {key[1]}"
            total += len(slow[key])
    assert total > 0


def test_raw_slices_are_the_reencoding(shared_ledgers):
    """The slices the fast path keeps are exactly what stellar_sdk re-encodes, and hashing uses them."""
    data = _blobs(DATASTORES / "mainnet-p22-56065483")[0]
    lcm = decode_batch(data, fast_path=True).ledger_close_metas[0]
    trm = lcm.v1.tx_processing[0]
    for obj in (trm.tx_apply_processing, trm.fee_processing, trm.result.result, lcm.v1.ledger_header.header):
        assert "_beam_raw_xdr" in obj.__dict__
        assert fast.xdr_bytes(obj) == obj.to_xdr_bytes()
    env = LedgerView(lcm, "Public Global Stellar Network ; September 2015").transactions[0].envelope
    plain = xdr.TransactionEnvelope.from_xdr_bytes(env.to_xdr_bytes())
    assert "_beam_raw_xdr" not in plain.__dict__  # decoded by stellar_sdk itself: no slice kept
    net_id = bytes.fromhex("7ac33997544e3175d266bd022439b22cdb16508c01163f26e5cb2a3e1045a979")
    assert transaction_hash(env, net_id) == transaction_hash(plain, net_id) == trm.result.transaction_hash.hash


def test_hooks_act_only_on_the_fast_unpacker():
    """stellar_sdk's own decoding (any other caller in the process) keeps its original behaviour."""
    fast.install()
    data = xdr.SCVal(xdr.SCValType.SCV_U32, u32=xdr.Uint32(7)).to_xdr_bytes()
    plain = xdr.SCVal.from_xdr_bytes(data)
    assert "_beam_raw_xdr" not in plain.__dict__
    value = fast.decode(xdr.SCVal, data)
    assert value == plain and value.__dict__["_beam_raw_xdr"] == data
    with pytest.raises(ValueError):
        fast.decode(xdr.SCValType, (99).to_bytes(4, "big"))  # unknown discriminant still fails
    with pytest.raises(ValueError, match="trailing 4 bytes"):
        fast.decode(xdr.SCVal, data + bytes(4))


@pytest.mark.parametrize(("cls", "size"), [(xdr.Int64, 8), (xdr.Uint32, 4), (xdr.Int32, 4), (xdr.Uint64, 8)])
def test_fast_unpacker_reads_like_xdrlib3(cls, size):
    value = cls(-5 if cls in (xdr.Int64, xdr.Int32) else 9)
    data = value.to_xdr_bytes()
    assert len(data) == size
    assert fast.decode(cls, data) == cls.from_xdr_bytes(data) == value
    for cut in range(size):
        with pytest.raises(EOFError):
            cls.from_xdr_bytes(data[:cut])
        with pytest.raises(EOFError):
            fast.decode(cls, data[:cut])
