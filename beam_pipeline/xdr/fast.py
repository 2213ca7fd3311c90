"""A faster decode path: stellar_sdk's objects, decoded sooner, plus the bytes they came from.

Profiling the pipeline (docs/performance.md) showed three costs that this module removes while
still producing exactly stellar_sdk's objects (tests/test_fast_decode.py compares every table's
rows on every data store against the plain stellar_sdk path):

* **Re-encoding.** Every table stores raw XDR columns (``tx_envelope``, ``tx_meta``, ``topics``,
  ``contract_data_xdr``, ...) and pairing envelopes with results hashes each transaction's XDR.
  Those bytes were in the input all along: the `unpack` of the types in `_RAW_TYPES` notes the
  slice of the input each object came from, and `xdr_bytes(obj)` returns it instead of
  re-encoding. Objects without a slice (built in code, decoded elsewhere) fall back to
  ``to_xdr_bytes()``, the same bytes for canonical XDR, which stellar-core only ever writes.
* **Enums.** stellar_sdk's enum ``unpack`` calls ``cls(value)`` (Enum.__call__) per
  discriminant; a dict lookup returns the same member.
* **Primitive reads.** xdrlib3's ``Unpacker`` slices, length-checks and ``struct.unpack``s each
  4-byte word through two levels of calls; `FastUnpacker` reads in place with precompiled
  ``struct`` readers (64-bit values in one read), and the integer typedefs (``Uint32``,
  ``Int64``, ...) build their object without the extra indirection.

The hooks are installed on stellar_sdk's classes once, process-wide, but only act when the
unpacker is a `FastUnpacker`, i.e. inside `decode()`: every other use of stellar_sdk (its own
``from_xdr_bytes``, other libraries in the process) runs its original code.
"""

from __future__ import annotations

import enum
import struct
import threading

import xdrlib3
from stellar_sdk import xdr

_RAW_ATTR = "_beam_raw_xdr"

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

_U32 = struct.Struct(">I").unpack_from
_I32 = struct.Struct(">i").unpack_from
_U64 = struct.Struct(">Q").unpack_from
_I64 = struct.Struct(">q").unpack_from


class FastUnpacker(xdrlib3.Unpacker):
    """xdrlib3's Unpacker with in-place reads; same results and the same errors on short input."""

    def __init__(self, data: bytes):  # noqa: D107 - no super().__init__: the state lives here
        self.reset(data)

    def reset(self, data: bytes) -> None:
        self._buf, self._pos, self._end = data, 0, len(data)

    def get_position(self) -> int:
        return self._pos

    def set_position(self, position: int) -> None:
        self._pos = position

    def get_buffer(self) -> bytes:
        return self._buf

    def done(self) -> None:
        if self._pos < self._end:
            raise xdrlib3.Error("unextracted data remains")

    def _advance(self, size: int) -> int:
        i = self._pos
        if i + size > self._end:
            raise EOFError
        self._pos = i + size
        return i

    def unpack_uint(self) -> int:
        return _U32(self._buf, self._advance(4))[0]

    def unpack_int(self) -> int:
        return _I32(self._buf, self._advance(4))[0]

    unpack_enum = unpack_int

    def unpack_bool(self) -> bool:
        return bool(self.unpack_int())

    def unpack_uhyper(self) -> int:
        return _U64(self._buf, self._advance(8))[0]

    def unpack_hyper(self) -> int:
        return _I64(self._buf, self._advance(8))[0]

    def unpack_fstring(self, n: int) -> bytes:
        if n < 0:
            raise ValueError("fstring size must be nonnegative")
        i = self._advance((n + 3) // 4 * 4)
        return self._buf[i : i + n]

    unpack_fopaque = unpack_fstring

    def unpack_string(self) -> bytes:
        return self.unpack_fstring(self.unpack_uint())

    unpack_opaque = unpack_string
    unpack_bytes = unpack_string


def _hook_raw(cls) -> None:
    original = cls.unpack.__func__

    def unpack(klass, unpacker, *args):
        if type(unpacker) is not FastUnpacker:
            return original(klass, unpacker, *args)
        start = unpacker._pos
        obj = original(klass, unpacker, *args)
        # A bytes slice (not a memoryview): objects stay picklable and do not pin the whole buffer.
        obj.__dict__[_RAW_ATTR] = unpacker._buf[start : unpacker._pos]
        return obj

    cls.unpack = classmethod(unpack)


def _hook_enum(cls) -> None:
    original = cls.unpack.__func__
    members = cls._value2member_map_

    def unpack(klass, unpacker):
        if type(unpacker) is not FastUnpacker:
            return original(klass, unpacker)
        value = unpacker.unpack_int()
        member = members.get(value)
        return member if member is not None else klass(value)  # unknown values raise as before

    cls.unpack = classmethod(unpack)


def _hook_integer(cls, attr: str, read: str) -> None:
    """`cls` is an XDR integer typedef whose __init__ only stores the value in `attr`."""
    original = cls.unpack.__func__

    def unpack(klass, unpacker, depth_limit=xdr.base.DEFAULT_XDR_MAX_DEPTH):
        if type(unpacker) is not FastUnpacker:
            return original(klass, unpacker, depth_limit)
        if depth_limit <= 0:
            raise ValueError("Maximum decoding depth reached")
        obj = object.__new__(klass)
        obj.__dict__[attr] = getattr(unpacker, read)()
        return obj

    cls.unpack = classmethod(unpack)


_INTEGER_TYPEDEFS = (
    (xdr.Uint32, "uint32", "unpack_uint"),
    (xdr.Int32, "int32", "unpack_int"),
    (xdr.Uint64, "uint64", "unpack_uhyper"),
    (xdr.Int64, "int64", "unpack_hyper"),
)

_installed = False
_install_lock = threading.Lock()


def install() -> None:
    """Installs the hooks (inert for any other unpacker); idempotent and thread-safe."""
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
        for cls, attr, read in _INTEGER_TYPEDEFS:
            _hook_integer(cls, attr, read)
        _installed = True


def decode(cls, data: bytes):
    """`cls.from_xdr_bytes(data)` on the fast path: same object, same errors, raw slices kept."""
    install()
    unpacker = FastUnpacker(data)
    result = cls.unpack(unpacker)
    remaining = len(data) - unpacker.get_position()
    if remaining != 0:
        raise ValueError(f"Unexpected trailing {remaining} bytes in XDR data")
    return result


def xdr_bytes(obj) -> bytes:
    """The XDR of a stellar_sdk object: the decoded slice when there is one, else a re-encoding."""
    raw = obj.__dict__.get(_RAW_ATTR)
    return raw if raw is not None else obj.to_xdr_bytes()


def decode_batch(data: bytes) -> xdr.LedgerCloseMetaBatch:
    return decode(xdr.LedgerCloseMetaBatch, data)


def decode_ledger(data: bytes) -> xdr.LedgerCloseMeta:
    return decode(xdr.LedgerCloseMeta, data)
