"""Values as stellar-etl's Go code prints them: XDR enum names and strings made of raw bytes.

stellar-etl JSON-encodes Go values, so wherever a table holds an enum name or text taken from XDR
bytes (memos, home domains, data names, asset codes, Soroban strings), our spelling must be Go's.
Both rules live here once.
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
    if type_name is None:
        type_name = _camelize(_underscore(type(value).__name__))
    return type_name + _camelize(_underscore(value.name))


def _go_replace(err: UnicodeError) -> tuple[str, int]:
    # Go swaps every invalid byte for U+FFFD and resumes at the next byte; Python's "replace"
    # would swallow a whole truncated sequence into one U+FFFD.
    return "\ufffd", err.start + 1


codecs.register_error("go_replace", _go_replace)


def go_string(raw: bytes) -> str:
    """Bytes as Go's JSON encoder renders a ``string(bytes)``: valid UTF-8, one U+FFFD per bad byte."""
    return raw.decode("utf-8", errors="go_replace")
