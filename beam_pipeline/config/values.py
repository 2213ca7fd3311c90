"""YAML values -> typed values, and frozen dataclasses built from mappings, every problem with its key path.

The mechanism under every part of a job config (`sources`, `parquet`, `pipeline`): a key's type
comes from its dataclass field, a value of the wrong type or an unknown key is a problem recorded
with the key path (``pipeline.consumers[0].config.compression``), and nothing is defaulted silently.
Values read from ``${VAR}`` references (`EnvText`) are parsed here, so no other module sees them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import MISSING, fields
from datetime import datetime, timezone
from typing import Any

from beam_pipeline.util.envtext import EnvText, shown

LEDGER_MAX = 2**32 - 1  # ledger sequences are uint32 in the protocol
MAX_WAIT_S = 86400.0  # a wait, timeout or deadline longer than a day is a typo (and time.sleep overflows)
MAX_RETRIES = 100


class ConfigError(ValueError):
    """One or more problems in a config file; the message lists each with its key path."""

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: invalid config:\n" + "\n".join(f"  - {p}" for p in problems))


_INT_TEXT = re.compile(r"^[+-]?[0-9][0-9_]*$")


def _int_text(text: str) -> int:
    """Decimal digits (YAML's underscores allowed) -> int; anything else is a ValueError."""
    if not _INT_TEXT.match(text):
        raise ValueError(text)
    return int(text.replace("_", ""))


def _from_env(v: Any, parse: Callable[[str], Any], expected: str) -> Any:
    """`EnvText` -> the key's type through `parse`; TypeError naming the reference when it does not parse."""
    try:
        return parse(v.strip())
    except (ValueError, OverflowError):
        raise TypeError(f"expected {expected}, got {shown(v)}") from None


def _as_int(v: Any) -> int:
    if isinstance(v, EnvText):
        return _from_env(v, _int_text, "an integer")
    if isinstance(v, bool):
        raise TypeError("expected an integer, got a boolean")
    if isinstance(v, int):
        return v
    if isinstance(v, float) and v.is_integer():
        return int(v)
    raise TypeError(f"expected an integer, got {shown(v)}")


def _as_float(v: Any) -> float:
    if isinstance(v, EnvText):
        v = _from_env(v, float, "a number")
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise TypeError(f"expected a number, got {shown(v)}")
    if not math.isfinite(v):  # .nan, .inf: every size, wait and timeout is a finite number
        raise TypeError(f"expected a finite number, got {v!r}")
    return float(v)


def _as_bool(v: Any) -> bool:
    if isinstance(v, EnvText):
        v = {"true": True, "false": False}.get(v.strip().lower(), v)
    if not isinstance(v, bool):
        raise TypeError(f"expected true or false, got {shown(v)}")
    return v


def _as_str(v: Any) -> str:
    if not isinstance(v, str):
        raise TypeError(f"expected a string, got {shown(v)}")
    return str(v)  # a plain str: EnvText stays in this module


def as_time(v: Any) -> datetime:
    """An RFC 3339 time in UTC; also used for the command line's --start_time/--end_time."""
    if isinstance(v, EnvText):
        v = str(v)
    if isinstance(v, datetime):
        t = v
    elif isinstance(v, str):
        try:
            t = datetime.fromisoformat(v.replace("Z", "+00:00"))
        except ValueError:
            raise TypeError(f"expected an RFC 3339 time such as 2024-01-01T00:00:00Z, got {v!r}") from None
    else:
        raise TypeError(f"expected an RFC 3339 time, got {type(v).__name__} {v!r}")
    if t.tzinfo is None:
        raise TypeError(f"time {v!r} has no time zone; write it in UTC with a Z suffix")
    return t.astimezone(timezone.utc)


_CONVERTERS: dict[Any, Callable[[Any], Any]] = {
    "int": _as_int,
    "int | None": _as_int,
    "float": _as_float,
    "float | None": _as_float,
    "bool": _as_bool,
    "str": _as_str,
    "str | None": _as_str,
    "datetime | None": as_time,
}


def build_config(cls: type, data: Any, path: str, problems: list[str], renames: Mapping[str, str] | None = None) -> Any:
    """Builds dataclass `cls` from a mapping, recording every problem with its key path.

    A field's type annotation (a string, under ``from __future__ import annotations``) picks its
    converter; `renames` maps another spelling of a key (the Go consumers') onto the field's name.
    Returns None only when a required key is missing: the others' problems leave their defaults.
    """
    if data is None:
        data = {}
    if not isinstance(data, dict):
        problems.append(f"{path}: expected a mapping, got {type(data).__name__}")
        return None
    renames = renames or {}
    known = {f.name: f for f in fields(cls)}
    kwargs = {}
    for key, raw in data.items():
        name = renames.get(key, key)
        if name not in known:
            problems.append(f"{path}.{key}: unknown key (known: {', '.join(sorted(known))})")
            continue
        if raw is None:
            problems.append(f"{path}.{key}: no value given (remove the key to use the default)")
            continue
        try:
            kwargs[name] = _CONVERTERS[known[name].type](raw)
        except TypeError as e:
            reason = str(e)
            if known[name].metadata.get("secret"):
                reason = f"expected a string, got a value of type {type(raw).__name__} (a secret: not shown)"
            problems.append(f"{path}.{key}: {reason}")
    missing = [
        f.name
        for f in fields(cls)
        if f.name not in kwargs and f.default is MISSING and f.default_factory is MISSING
    ]
    for name in missing:
        if not any(p.startswith(f"{path}.{name}:") for p in problems):
            problems.append(f"{path}.{name}: required key is missing")
    if missing:
        return None
    return cls(**kwargs)


# --- checks beyond types: each appends "<key path>: <why>" to `problems` -------------------------


def check_choice(value: str, choices: tuple[str, ...], path: str, problems: list[str], fold: bool = False) -> None:
    probe = value.lower() if fold else value
    if probe not in choices:
        problems.append(f"{path}: {value!r} is not one of {', '.join(choices)}")


def check_positive(obj: Any, names: tuple[str, ...], path: str, problems: list[str]) -> None:
    for n in names:
        v = getattr(obj, n)
        if v is not None and v <= 0:
            problems.append(f"{path}.{n}: must be greater than 0, got {v}")


def check_at_most(obj: Any, limits: Mapping[str, float], path: str, problems: list[str]) -> None:
    for n, hi in limits.items():
        v = getattr(obj, n, None)
        if v is not None and v > hi:
            problems.append(f"{path}.{n}: must be at most {hi:g}, got {v:g}")


def check_not_negative(obj: Any, names: tuple[str, ...], path: str, problems: list[str]) -> None:
    for n in names:
        if getattr(obj, n) < 0:
            problems.append(f"{path}.{n}: must not be negative, got {getattr(obj, n):g}")

