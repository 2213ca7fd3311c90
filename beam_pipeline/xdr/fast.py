"""A faster decode path: stellar_sdk's objects, plus the raw bytes they were decoded from.

Profiling the pipeline (docs/performance.md) showed that a third of the time after decoding went
into turning decoded objects *back* into XDR: every table stores raw XDR columns (``tx_envelope``,
``tx_meta``, ``topics``, ``contract_data_xdr``, ...) and pairing envelopes with results hashes each
transaction's XDR. Those bytes were in the input all along. While `recording()` is active, the
`unpack` of the types in `_RAW_TYPES` notes the slice of the input each object came from, and
`xdr_bytes(obj)` returns it instead of re-encoding. Objects decoded outside `recording()` (or
built in code) have no slice and fall back to ``to_xdr_bytes()``, so the result is the same bytes
either way for canonical XDR (which stellar-core only ever writes; tests/test_fast_decode.py checks
every data store row for row against the plain stellar_sdk path).

The same switch replaces stellar_sdk's enum ``unpack`` (``cls(value)``, the single largest cost
of its decoder: Enum.__call__ runs per discriminant) by a dict lookup that returns the same member.

The hooks are installed on stellar_sdk's classes once, process-wide, but do nothing unless the
calling thread is inside `recording()`: other users of stellar_sdk see unchanged behaviour.
"""

from __future__ import annotations

import contextlib
import enum
import threading

from stellar_sdk import xdr

_RAW_ATTR = "_beam_raw_xdr"
_state = threading.local()

# Types whose XDR the tables store or hash; small leaf types are not worth a slice each.
_RAW_TYPES = (
    xdr.LedgerHeader,
    xdr.TransactionEnvelope,
    xdr.Transaction,
    xdr.TransactionV0,
    xdr.FeeBumpTransaction,
    xdr.TransactionResult,
    xdr.TransactionMeta,
    xdr.LedgerEntryChanges,
    xdr.LedgerEntry,
    xdr.LedgerKey,
    xdr.ContractDataEntry,
    xdr.SCVal,
    xdr.DiagnosticEvent,
    xdr.ContractEvent,
)

_installed = False
_install_lock = threading.Lock()


def _active() -> bool:
    return getattr(_state, "on", False)


def _hook_raw(cls) -> None:
    original = cls.unpack.__func__

    def unpack(klass, unpacker, *args):
        if not getattr(_state, "on", False):
            return original(klass, unpacker, *args)
        start = unpacker.get_position()
        obj = original(klass, unpacker, *args)
        # A bytes slice (not a memoryview): objects stay picklable and do not pin the whole buffer.
        obj.__dict__[_RAW_ATTR] = unpacker.get_buffer()[start : unpacker.get_position()]
        return obj

    cls.unpack = classmethod(unpack)


def _hook_enum(cls) -> None:
    original = cls.unpack.__func__
    members = cls._value2member_map_

    def unpack(klass, unpacker):
        if not getattr(_state, "on", False):
            return original(klass, unpacker)
        value = unpacker.unpack_int()
        member = members.get(value)
        return member if member is not None else klass(value)  # unknown values raise as before

    cls.unpack = classmethod(unpack)


def install() -> None:
    """Installs the (inactive until `recording()`) hooks; idempotent and thread-safe."""
    global _installed
    with _install_lock:
        if _installed:
            return
        for cls in _RAW_TYPES:
            _hook_raw(cls)
        for name in dir(xdr):
            cls = getattr(xdr, name)
            if isinstance(cls, type) and issubclass(cls, enum.IntEnum) and "unpack" in cls.__dict__:
                _hook_enum(cls)
        _installed = True


@contextlib.contextmanager
def recording():
    """Within this block, this thread's stellar_sdk decodes keep raw slices and use fast enums."""
    install()
    previous = _active()
    _state.on = True
    try:
        yield
    finally:
        _state.on = previous


def xdr_bytes(obj) -> bytes:
    """The XDR of a stellar_sdk object: the decoded slice when there is one, else a re-encoding."""
    raw = obj.__dict__.get(_RAW_ATTR)
    return raw if raw is not None else obj.to_xdr_bytes()


def decode_batch(data: bytes) -> xdr.LedgerCloseMetaBatch:
    with recording():
        return xdr.LedgerCloseMetaBatch.from_xdr_bytes(data)


def decode_ledger(data: bytes) -> xdr.LedgerCloseMeta:
    with recording():
        return xdr.LedgerCloseMeta.from_xdr_bytes(data)
