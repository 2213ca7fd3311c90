"""What every operation family needs: the operation's context and stellar-etl's value formats.

stellar-etl builds each operation's ``details`` as a Go ``map[string]interface{}`` and JSON-encodes
it, so its value formats are Go's: amounts are float64 stroops/10^7 (or 7-decimal strings in a few
places), enum names are the Go XDR names (``OperationResultCodeOpInner``), accounts are strkeys
with ``_muxed`` / ``_muxed_id`` companions. Those conventions live here so the family modules only
say which keys an operation has.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from stellar_sdk import xdr

from beam_pipeline.records.operations.changes import Change, operation_changes
from beam_pipeline.util.accounts import account_address, muxed_address, muxed_id
from beam_pipeline.util.assets import asset_id, extract_asset
from beam_pipeline.util.goformat import go_enum_name as go_enum_name  # re-exported for the family modules
from beam_pipeline.util.goformat import go_utc_parts as go_utc_parts  # re-exported for the family modules
from beam_pipeline.xdr.ledger import LedgerView, TxView, tx_source_account

Details = dict[str, Any]

_STROOPS_PER_UNIT = 10_000_000


class OperationError(ValueError):
    """An operation that cannot be turned into a row; the message names ledger, tx and operation."""


@dataclass
class OpContext:
    """One operation in its transaction and ledger: everything a details builder may read.

    Attributes:
        ledger: the decoded ledger.
        tx: the applied transaction that holds the operation.
        op: the operation.
        index: 0-based position in the transaction (stellar-etl's ``operationIndex``).
    """

    ledger: LedgerView
    tx: TxView
    op: xdr.Operation
    index: int

    @cached_property
    def source(self) -> xdr.MuxedAccount:
        """The operation's source: its own, else the (inner) transaction's."""
        if self.op.source_account is not None:
            return self.op.source_account
        return tx_source_account(self.tx)

    @cached_property
    def result(self) -> xdr.OperationResult | None:
        """This operation's result, or None when the transaction carries no per-operation results."""
        results = self.tx.operation_results
        if results is None:
            return None
        if self.index >= len(results):
            raise self.error(f"only {len(results)} operation results")
        return results[self.index]

    @cached_property
    def changes(self) -> list[Change]:
        """Ledger-entry changes this operation made, as stellar-etl's ingest sees them."""
        return operation_changes(self.tx, self.index, self.ledger.protocol_version)

    def error(self, message: str) -> OperationError:
        """An error naming where it happened; the caller raises it."""
        return OperationError(
            f"ledger {self.ledger.sequence} tx {self.tx.hash_hex} operation {self.index + 1}: {message}"
        )


# --- Go value formats ----------------------------------------------------------------------------


def stroops_to_real(value: int) -> float:
    """An amount in stroops as stellar-etl's float64 (exact rational rounded to nearest double).

    Python's int/int true division is correctly rounded, like Go's ``big.Rat.Float64``.
    """
    return value / _STROOPS_PER_UNIT


def rat_float_string(num: int, den: int, prec: int = 7) -> str:
    """Go's ``big.Rat.FloatString``: `prec` decimals, halves rounded away from zero.

    The sign is kept even when the rounded value is zero, as Go does.
    """
    if den == 0:
        raise ZeroDivisionError("rational with zero denominator")
    negative = (num < 0) != (den < 0) and num != 0
    n, d = abs(num), abs(den)
    scale = 10**prec
    q, r = divmod(n * scale, d)
    if 2 * r >= d:
        q += 1
    whole, frac = divmod(q, scale)
    text = str(whole) if prec == 0 else f"{whole}.{frac:0{prec}d}"
    return "-" + text if negative else text


def amount_string(value: int) -> str:
    """Go's ``amount.String``: stroops as a 7-decimal string (``"0.0000000"``)."""
    return rat_float_string(value, _STROOPS_PER_UNIT)


# --- shared detail builders ----------------------------------------------------------------------


def prefixed(prefix: str) -> str:
    return f"{prefix}_" if prefix else ""


def add_account(details: Details, account: xdr.MuxedAccount, key: str) -> None:
    """``key`` = G address, plus ``key_muxed`` / ``key_muxed_id`` when the account is multiplexed."""
    details[key] = account_address(account)
    address = muxed_address(account)
    if address is not None:
        details[f"{prefixed(key)}muxed"] = address
        details[f"{prefixed(key)}muxed_id"] = muxed_id(account)


def add_asset(details: Details, asset: xdr.Asset, prefix: str = "") -> None:
    """``asset_type``, ``asset_code``, ``asset_issuer`` and ``asset_id`` under `prefix`."""
    p = prefixed(prefix)
    kind, code, issuer = extract_asset(asset)
    details[f"{p}asset_type"] = kind
    details[f"{p}asset_id"] = asset_id(code, issuer, kind)
    if asset.type != xdr.AssetType.ASSET_TYPE_NATIVE:
        details[f"{p}asset_code"] = code
        details[f"{p}asset_issuer"] = issuer


def add_price(details: Details, price: xdr.Price, prefix: str = "") -> None:
    """``price`` (7-decimal rounding of n/d parsed back to float) and ``price_r`` {n, d}."""
    p = prefixed(prefix)
    n, d = price.n.int32, price.d.int32
    details[f"{p}price"] = float(rat_float_string(n, d))
    details[f"{p}price_r"] = {"n": n, "d": d}


def path_assets(path: list[xdr.Asset]) -> list[dict[str, str]] | None:
    """A path payment's intermediate assets; None (JSON null) for an empty path, as stellar-etl."""
    if not path:
        return None
    out = []
    for asset in path:
        kind, code, issuer = extract_asset(asset)
        out.append({"asset_code": code, "asset_issuer": issuer, "asset_type": kind})
    return out


def flag_lists(flags: int, names: list[tuple[int, str]]) -> tuple[list[int], list[str]]:
    """The set bits of `flags` that have names, as (numbers, names) in the given order."""
    numbers, texts = [], []
    for bit, name in names:
        if flags & bit:
            numbers.append(bit)
            texts.append(name)
    return numbers, texts
