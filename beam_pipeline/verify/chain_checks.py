"""The per-ledger facts ``verify --chain`` proves, each a pure function of archived rows.

- A ``ledgers`` row's ``ledger_header`` is the ledger's XDR ``LedgerHeader``; its SHA-256 is the ledger
  hash. The row's other header columns must be what `records.ledgers.header_fields` (the writer's own
  function) makes of that header, so an edited column cannot hide behind an intact header.
- The header's ``txSetResultHash`` is the SHA-256 of the XDR ``TransactionResultSet``: a count, then
  every ``TransactionResultPair`` (32-byte transaction hash, ``TransactionResult``) in application
  order. The ``transactions`` rows carry exactly those two parts (``transaction_hash`` in hex,
  ``tx_result``), so the set is rebuilt from them byte for byte.
- The ledger's transaction counts follow from those (proven) results: successful and failed
  transactions and the operations of successful ones, counted as `records.ledgers.count_fields` does.

- Each ``tx_envelope`` hashes, under the network passphrase, to its row's ``transaction_hash`` (the
  network hash Stellar signs): with the pair proven by the header, that proves the transaction the
  envelope carries (not its signatures, which the hash leaves out) and the network it was made for.

When a ledger's results do not hash to its header, the hash cannot say which transaction changed;
the rows whose ``fee_charged`` or ``successful`` disagree with their own ``tx_result``, whose result
is not XDR, or whose application order is out of place are named as the likely ones.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from stellar_sdk import xdr

from beam_pipeline.records.ledgers import HEADER_FIELDS, LedgerTransformError, header_fields
from beam_pipeline.xdr.fast import decode
from beam_pipeline.xdr.ledger import transaction_hash

# Header columns compared with the row; ledger_hash and ledger_header are the hash check itself.
COMPARED = tuple(c for c in HEADER_FIELDS if c not in ("ledger_hash", "ledger_header"))
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_TX_SUCCESS, _TX_FAILED, _FEE_BUMP_INNER_SUCCESS, _FEE_BUMP_INNER_FAILED = 0, -1, 1, -13
_ORDER_BITS, _ORDER_MASK = 12, (1 << 20) - 1  # TOID: ledger 32 bits | application order 20 | operation 12


@dataclass(frozen=True)
class HeaderCheck:
    """One ledgers row checked against itself: its real hash, its decoded header (None if not XDR), problems."""

    hash: bytes
    header: xdr.LedgerHeader | None
    problems: tuple[str, ...]

    @property
    def previous_hash(self) -> str | None:
        return None if self.header is None else self.header.previous_ledger_hash.hash.hex()


def _micros(value: datetime) -> int:
    return (value - _EPOCH) // timedelta(microseconds=1)


def check_header(row: dict) -> HeaderCheck:
    """``ledger_hash`` = SHA-256(``ledger_header``), and every header column equals the header's field."""
    seq = row["sequence"]
    data = row["ledger_header"] or b""
    digest = hashlib.sha256(data).digest()
    problems = []
    if digest.hex() != (row["ledger_hash"] or "").lower():
        problems.append(f"ledger {seq}: ledger_hash {row['ledger_hash']} is not the SHA-256 of its "
                        f"ledger_header ({digest.hex()})")
    try:
        header = decode(xdr.LedgerHeader, data)
        expected = header_fields(header, digest)
    except LedgerTransformError as e:
        return HeaderCheck(digest, None, (*problems, f"ledger {seq}: {e}"))
    except Exception as e:  # noqa: BLE001 - any decode failure means the column is not a LedgerHeader
        return HeaderCheck(digest, None, (*problems, f"ledger {seq}: ledger_header is not LedgerHeader XDR ({e})"))
    expected["closed_at"] = _micros(expected["closed_at"])
    for col in COMPARED:
        if row[col] != expected[col]:
            shown = _shown(col, row[col]), _shown(col, expected[col])
            problems.append(f"ledger {seq}: {col} is {shown[0]} in the row but {shown[1]} in its ledger_header")
    return HeaderCheck(digest, header, tuple(problems))


def _shown(col: str, value) -> str:
    if col == "closed_at" and isinstance(value, int):
        return (_EPOCH + timedelta(microseconds=value)).isoformat().replace("+00:00", "Z")
    return repr(value)


@dataclass(frozen=True)
class ResultFacts:
    """What a ``TransactionResult``'s first words say: the fee, success, and operation results counted."""

    fee_charged: int
    successful: bool
    operations: int


def result_facts(data: bytes) -> ResultFacts:
    """Reads fee, code and operation-result count from TransactionResult XDR (raises ValueError if too short)."""
    try:
        fee, code = struct.unpack_from(">qi", data, 0)
        ops = 0
        if code in (_TX_SUCCESS, _TX_FAILED):
            (ops,) = struct.unpack_from(">I", data, 12)
        elif code in (_FEE_BUMP_INNER_SUCCESS, _FEE_BUMP_INNER_FAILED):
            # innerResultPair: 32-byte hash, then the inner TransactionResult (fee, code, results<>)
            (inner_code,) = struct.unpack_from(">i", data, 12 + 32 + 8)
            if inner_code in (_TX_SUCCESS, _TX_FAILED):
                (ops,) = struct.unpack_from(">I", data, 12 + 32 + 12)
    except struct.error:
        raise ValueError(f"{len(data)} bytes are too few for a TransactionResult") from None
    return ResultFacts(fee, code in (_TX_SUCCESS, _FEE_BUMP_INNER_SUCCESS), ops)


@dataclass(frozen=True)
class TxCheck:
    """A ledger's transactions against its header: the problems, and the header-derived counts."""

    problems: tuple[str, ...]
    hashed: bool  # the pairs hash to txSetResultHash
    successful: int
    failed: int
    operations: int


def _name(tx: dict) -> str:
    return f"transaction {tx['transaction_hash']} (application order {(tx['id'] >> _ORDER_BITS) & _ORDER_MASK})"


def check_transactions(seq: int, header: xdr.LedgerHeader, txs: list[dict]) -> TxCheck:
    """The rows' (transaction_hash, tx_result) pairs in application order hash to the header's txSetResultHash."""
    suspects: list[str] = []
    orders = [(t["id"] >> _ORDER_BITS) & _ORDER_MASK for t in txs]
    for t in txs:
        if t["id"] >> 32 != seq:
            suspects.append(f"{_name(t)}: its id {t['id']} belongs to ledger {t['id'] >> 32}")
    if orders != list(range(1, len(txs) + 1)):
        seen = set(orders)
        gaps = [o for o in range(1, len(txs) + 1) if o not in seen]
        twice = sorted({o for o in orders if orders.count(o) > 1})
        suspects.append(f"application orders are not 1..{len(txs)}: missing {gaps or 'none'}, twice {twice or 'none'}")
    parts = [struct.pack(">I", len(txs))]
    successful = failed = operations = 0
    for t in txs:
        try:
            tx_hash = bytes.fromhex(t["transaction_hash"] or "")
            if len(tx_hash) != 32:
                raise ValueError
        except ValueError:
            suspects.append(f"{_name(t)}: transaction_hash is not 32 bytes of hex")
            tx_hash = b""
        result = t["tx_result"] or b""
        parts += [tx_hash, result]
        try:
            facts = result_facts(result)
        except ValueError as e:
            suspects.append(f"{_name(t)}: tx_result: {e}")
            continue
        if facts.fee_charged != t["fee_charged"] or facts.successful != t["successful"]:
            suspects.append(
                f"{_name(t)}: its tx_result says fee_charged {facts.fee_charged}, successful {facts.successful}; "
                f"the row says {t['fee_charged']}, {t['successful']}"
            )
        if facts.successful:
            successful += 1
            operations += facts.operations
        else:
            failed += 1
    digest = hashlib.sha256(b"".join(parts)).digest()
    want = header.tx_set_result_hash.hash
    problems = []
    if digest != want:
        problems.append(
            f"ledger {seq}: its {len(txs)} transactions' (transaction_hash, tx_result) pairs hash to "
            f"{digest.hex()}, not to the header's txSetResultHash {want.hex()}"
            + ("; " + "; ".join(suspects) if suspects else "; which transaction differs the hash cannot tell")
        )
    return TxCheck(tuple(problems), digest == want, successful, failed, operations)


def check_counts(row: dict, txs: TxCheck) -> list[str]:
    """The ledgers row's counts against the ones its (proven) transaction results give."""
    seq = row["sequence"]
    derived = {
        "successful_transaction_count": txs.successful,
        "failed_transaction_count": txs.failed,
        "transaction_count": txs.successful,
        "operation_count": txs.operations,
    }
    where = "its header-proven transaction results" if txs.hashed else "its transactions rows"
    return [
        f"ledger {seq}: {col} is {row[col]} in the row but {value} by {where}"
        for col, value in derived.items()
        if row[col] != value
    ]


_ENVELOPE_TX_V0, _ENVELOPE_TX, _ENVELOPE_FEE_BUMP = 0, 2, 5
_SIGNATURE_BYTES = 4 + 4 + 64  # DecoratedSignature: hint, length, a 64-byte ed25519 signature
_MAX_SIGNATURES = 20


def _hashes_without_decoding(envelope: bytes, tx_hash: str, net_id: bytes) -> bool:
    """True when the envelope's transaction, cut off before its signatures, has the network hash `tx_hash`.

    Decoding an envelope with stellar_sdk costs up to a millisecond (Soroban transactions); the
    signatures ``<20>`` at its end are found from the end instead, assuming 64-byte signatures, and
    the bytes before them hashed. A match proves those bytes are the transaction (SHA-256 preimage);
    anything else (another signature size, a changed envelope) goes to the full decode, which names
    the difference.
    """
    if len(envelope) < 8:
        return False
    (kind,) = struct.unpack_from(">I", envelope, 0)
    if kind == _ENVELOPE_TX_V0:
        prefix = net_id + struct.pack(">II", _ENVELOPE_TX, 0)  # hashed as a v1 Transaction: ed25519 source
    elif kind in (_ENVELOPE_TX, _ENVELOPE_FEE_BUMP):
        prefix = net_id + struct.pack(">I", kind)
    else:
        return False
    n = len(envelope)
    for count in range(_MAX_SIGNATURES + 1):
        start = n - 4 - count * _SIGNATURE_BYTES
        if start < 4:
            return False
        if struct.unpack_from(">I", envelope, start)[0] != count or any(
            struct.unpack_from(">I", envelope, start + 4 + i * _SIGNATURE_BYTES + 4)[0] != 64 for i in range(count)
        ):
            continue
        if hashlib.sha256(prefix + envelope[4:start]).hexdigest() == tx_hash:
            return True
    return False


def check_envelopes(seq: int, txs: list[dict], net_id: bytes, network: str) -> tuple[int, str | None]:
    """Each envelope's network hash under `net_id` is its row's transaction_hash.

    Returns how many do not, and a line naming the ledger and the first of them (None if all do).
    """
    wrong = []
    for t in txs:
        if _hashes_without_decoding(t["tx_envelope"] or b"", t["transaction_hash"], net_id):
            continue
        try:
            actual = transaction_hash(decode(xdr.TransactionEnvelope, t["tx_envelope"] or b""), net_id).hex()
        except Exception as e:  # noqa: BLE001 - not an envelope at all
            wrong.append(f"{_name(t)}: tx_envelope is not TransactionEnvelope XDR ({e})")
            continue
        if actual != t["transaction_hash"]:
            wrong.append(f"{_name(t)}: its envelope hashes to {actual}")
    if not wrong:
        return 0, None
    return len(wrong), (f"ledger {seq}: {len(wrong)} of {len(txs)} tx_envelopes do not hash to their "
                        f"transaction_hash under network {network!r}; first: {wrong[0]}")
