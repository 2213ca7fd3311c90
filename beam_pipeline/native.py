"""The optional native core (the Rust crate in `native/`, module `beam_pipeline._native`).

The core decodes a blob's XDR once and builds, for the tables it implements, the same Arrow
columns the Python tables build (the Python modules of `beam_pipeline/records/` stay the
readable reference and the fallback; tests/test_native.py proves the two equal on every data
store). The decode step asks `NativeCore.for_tables` which of its tables the core can build.

``STELLAR_ARCHIVE_NATIVE`` picks the path: ``auto`` (default) uses the core when it is installed
and says once in the log when it is not; ``1`` requires it (an ImportError naming the cause when
it is missing); ``0`` never uses it (everything on the Python path).
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Sequence
from types import ModuleType

import pyarrow as pa

log = logging.getLogger(__name__)

MODE_ENV = "STELLAR_ARCHIVE_NATIVE"
MODES = ("auto", "0", "1")


def mode() -> str:
    value = os.environ.get(MODE_ENV, "auto").strip().lower() or "auto"
    if value not in MODES:
        raise ValueError(f"{MODE_ENV}={value!r}: expected one of {', '.join(MODES)}")
    return value


@functools.cache
def _load(selected: str) -> ModuleType | None:
    if selected == "0":
        log.info("%s=0: decoding on the Python path only (the native core is not used)", MODE_ENV)
        return None
    try:
        from beam_pipeline import _native
    except ImportError as e:
        if selected == "1":
            raise ImportError(
                f"{MODE_ENV}=1 but the native core (beam_pipeline._native) cannot be imported: {e}; "
                "install the package with cargo available (pip install .) or set it to auto or 0"
            ) from e
        log.warning(
            "running without the native core (beam_pipeline._native is not installed: %s); "
            "every table is built on the Python path",
            e,
        )
        return None
    return _native


def core() -> ModuleType | None:
    """The extension module under the current switch, or None (Python path)."""
    return _load(mode())


def native_table_names() -> frozenset[str]:
    """The tables the installed core implements (empty when it is off or absent)."""
    module = core()
    return frozenset(module.tables()) if module is not None else frozenset()


class NativeCore:
    """The native core bound to one decode step's settings (picklable: it holds only names and values)."""

    def __init__(self, tables: Sequence[str], network_passphrase: str, xdr_encoding: str):
        self.tables = tuple(tables)
        self._passphrase = network_passphrase
        self._binary = xdr_encoding == "binary"

    @classmethod
    def for_tables(cls, tables: Sequence[str], network_passphrase: str, xdr_encoding: str) -> NativeCore | None:
        """The core for those of `tables` it implements, or None when it implements none of them (or is off)."""
        names = native_table_names()
        mine = [t for t in tables if t in names]
        return cls(mine, network_passphrase, xdr_encoding) if mine else None

    def decode(self, data: bytes, kind: str):
        """The decoded blob (kept on the Rust side, with a reference to `data`, not a copy of it).

        Raises `NativeError` (a ValueError) for malformed XDR.
        """
        return core().decode(data, kind)

    def batch(self, blob, table: str, positions: list[int], schema: pa.Schema) -> NativeBatch:
        """`table`'s rows of the ledgers at `positions` of `blob`, under `schema`'s names, nullability and metadata.

        `schema` is the table's schema as stored, without the run metadata columns. The core builds every
        column in its stored type (`conform` checks it).
        """
        schema_capsule, array_capsule, offsets, error = blob.rows(table, positions, self._passphrase, self._binary)
        columns = pa.record_batch(_ArrowCapsules(schema_capsule, array_capsule))
        return conform(columns, offsets, error, schema)


def conform(columns: pa.RecordBatch, offsets: list[int], error: tuple[int, str, str] | None,
            schema: pa.Schema) -> NativeBatch:
    """The core's batch under `schema`'s names, nullability and metadata; a column of another type is refused.

    The core builds each column in its stored type, int64 for every integer column (native/src/ints.rs): an
    XDR uint64 of 2^63 or more has already failed its ledger there with the `IntegerRangeError` the Python path
    raises. Nothing is cast here, on the hot path: a type difference is the core's bug, a TypeError naming the
    column (tests/test_native.py checks every table's types on every data store).
    """
    for array, f in zip(columns.columns, schema, strict=True):
        if not array.type.equals(f.type):
            raise TypeError(f"column {f.name}: the native core built {array.type}, the table stores {f.type}")
    return NativeBatch(pa.RecordBatch.from_arrays(columns.columns, schema=schema), offsets, error)


class _ArrowCapsules:
    """The core's (ArrowSchema, ArrowArray) PyCapsules behind the Arrow PyCapsule interface pyarrow imports."""

    def __init__(self, schema_capsule, array_capsule):
        self._capsules = (schema_capsule, array_capsule)

    def __arrow_c_array__(self, requested_schema=None):
        return self._capsules


class NativeBatch:
    """One table's batch for a run of ledgers: ledger i's rows are ``offsets[i]:offsets[i + 1]``.

    `error` is None, or (index of the first ledger whose rows failed, exception class name, message);
    the batch then holds the rows of the ledgers before it.
    """

    def __init__(self, batch: pa.RecordBatch, offsets: list[int], error: tuple[int, str, str] | None):
        self.batch = batch
        self.offsets = offsets
        self.error = error

    @property
    def ledgers(self) -> int:
        return len(self.offsets) - 1

    def prefix(self, ledgers: int) -> pa.RecordBatch:
        """The rows of the first `ledgers` ledgers."""
        return self.batch.slice(0, self.offsets[ledgers])


@functools.cache
def _error_class(name: str) -> type[ValueError]:
    return type(name, (ValueError,), {"__module__": __name__, "__doc__": "An error the native core reported."})


def table_error(class_name: str, message: str) -> ValueError:
    """The exception of a table's failure in the core, of a class named as the one the Python reference raises.

    The decode step words its messages and dead letters with the class name, so both paths say the same.
    """
    return _error_class(class_name)(message)
