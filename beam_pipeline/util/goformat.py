"""Values as stellar-etl's Go code prints them: XDR enum names, strings made of raw bytes, times.

stellar-etl JSON-encodes Go values, so wherever a table holds an enum name or text taken from XDR
bytes (memos, home domains, data names, asset codes, Soroban strings), or a time made from a
ledger's epoch seconds (claim predicates, ScVal timepoints), our spelling must be Go's. Each rule
lives here once.
"""

from __future__ import annotations

import codecs
import re
from enum import Enum


def _underscore(name: str) -> str:
    """ActiveSupport's ``underscore``, which xdrgen applies to XDR names."""
    name = re.sub(r"([A-Z\d]+)([A-Z][a-z])", r"\1_\2", name)
    name = re.sub(r"([a-z\d])([A-Z])", r"\1_\2", name)
    return name.replace("-", "_").lower()


def _camelize(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in name.split("_"))


def go_enum_name(value: Enum, type_name: str | None = None) -> str:
    """The name Go's XDR bindings print for an enum value (``OperationResultCodeOpInner``).

    xdrgen names Go constants ``camelize(underscore(Type)) + camelize(underscore(MEMBER))``
    (``txBAD_AUTH_EXTRA`` -> ``TxBadAuthExtra``, ``ComputeSha256Hash`` -> ``ComputeSha256Hash``); the
    same rule applied to stellar_sdk's class and member names reproduces them, and keeps us right for
    enum values added in later protocols.

    Args:
        value: a stellar_sdk XDR enum member.
        type_name: the Go type name to prefix, when given; by default it is derived from the class.
    """
    # Every transaction and operation asks for a few names (result codes, types), and the regexes
    # cost ~25 us a name, so each is computed once. The class is part of the key because IntEnum
    # members of different enums compare equal when their values do.
    key = (type(value), value, type_name)
    name = _GO_NAMES.get(key)
    if name is None:
        prefix = _camelize(_underscore(type(value).__name__)) if type_name is None else type_name
        name = _GO_NAMES[key] = prefix + _camelize(_underscore(value.name))
    return name


# Bounded by the enum members that exist (times the few explicit type names callers pass).
_GO_NAMES: dict[tuple[type, Enum, str | None], str] = {}


def _go_replace(err: UnicodeError) -> tuple[str, int]:
    # Go swaps every invalid byte for U+FFFD and resumes at the next byte; Python's "replace"
    # would swallow a whole truncated sequence into one U+FFFD.
    return "\ufffd", err.start + 1


codecs.register_error("go_replace", _go_replace)


def go_string(raw: bytes) -> str:
    """Bytes as Go's JSON encoder renders a ``string(bytes)``: valid UTF-8, one U+FFFD per bad byte."""
    return raw.decode("utf-8", errors="go_replace")


# Seconds from Go's "absolute zero" (year -292277022399) to the Unix epoch. Go's time package turns
# a time into an unsigned offset from that origin before it computes the calendar date, so an epoch
# outside the representable span wraps modulo 2**64 (the int64 overflow of time.Unix's internal
# seconds is congruent to the same thing and needs no step of its own).
_GO_ABS_TO_UNIX = 9223372028683721448


def _civil_from_days(days: int) -> tuple[int, int, int]:
    """Proleptic Gregorian (year, month, day) of a day count from 1970-01-01, for any integer."""
    z = days + 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = mp + 3 if mp < 10 else mp - 9
    return yoe + era * 400 + (month <= 2), month, day


def go_utc_parts(epoch: int) -> tuple[int, int, int, int, int, int]:
    """(year, month, day, hour, minute, second) of Go's ``time.Unix(epoch, 0).UTC()``.

    Python's datetime stops at year 9999; ledger values (claim predicates, ScVal timepoints) do
    not, and absurd but valid values near the int64 limits must print as stellar-etl prints them,
    wrap-around included (the Go SDK's own vectors: int64 max is ``+292277026596-12-04T15:30:07Z``).
    Any integer is accepted; a uint64 timepoint behaves as Go's ``int64(tp)`` conversion.
    """
    unix = (epoch + _GO_ABS_TO_UNIX) % (1 << 64) - _GO_ABS_TO_UNIX
    days, secs = divmod(unix, 86400)
    year, month, day = _civil_from_days(days)
    hh, rem = divmod(secs, 3600)
    mm, ss = divmod(rem, 60)
    return year, month, day, hh, mm, ss


def go_rfc3339(epoch: int) -> str:
    """``time.Unix(epoch, 0).UTC().Format(time.RFC3339)`` plus the SDK's ``+`` for years > 9999.

    This is the Go XDR library's JSON form of a claim predicate's ``abs_before``, which stellar-etl
    copies into both the ``claimable_balances`` claimants and the claim operations' details.
    """
    year, month, day, hh, mm, ss = go_utc_parts(epoch)
    year_text = f"-{-year:04d}" if year < 0 else f"{year:04d}"
    text = f"{year_text}-{month:02d}-{day:02d}T{hh:02d}:{mm:02d}:{ss:02d}Z"
    return "+" + text if year > 9999 else text
