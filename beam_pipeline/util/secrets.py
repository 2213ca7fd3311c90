"""Secrets are values: whatever text they turn up in, they are replaced before the text leaves.

A credential leaks through texts nobody wrote on purpose: urllib3's debug line quoting a request
URL with ``?apikey=…``, an RPC server's error body echoing the bare token, botocore quoting an
endpoint with ``user:pass@``. Scrubbing fields by name misses those, so every secret value the job
holds is registered here (the launcher registers the config's; each process that builds a client
registers what that client was given) and redacted by value from:

- every log record, third-party loggers included, by a filter on the root logger's handlers
  (`protect_logging`: a handler's filters see every record that propagates to it);
- everything the command line prints (`RedactingStream` around stdout and stderr, see cli.main);
- dead-letter messages and anything else a caller passes through `redact`.

The registry lives in process memory only: it is never pickled, logged or shipped to workers. It is
never emptied either: a call abandoned at its deadline (util/deadline.py) may still log after the
command has returned, and a secret stays one.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import logging
import re
import threading
from collections.abc import Iterable
from typing import Any, TextIO
from urllib.parse import parse_qsl, unquote, urlsplit

REDACTED = "<redacted>"
MIN_LENGTH = 6  # shorter values would redact ordinary words ("tok" in "token") everywhere; secrets are longer
URL_KEYS = ("rpc_url", "endpoint", "path", "endpoint_url", "connection_string", "address")  # may carry credentials
SECRET_KEYS = ("auth_header", "password")  # config fields that are secrets whole
_SECRET_PARAM = re.compile(r"key|token|secret|auth|pass|sig|cred|session", re.IGNORECASE)
_LONG_VALUE = 16  # a query value this long is treated as a token whatever its name
# Database URLs, whose userinfo without a password is a user name (postgresql://postgres@db/...), not a token:
# redacting it would blank every "postgres" in every message.
USER_NAME_SCHEMES = ("postgres", "postgresql", "redis", "rediss")

_lock = threading.Lock()
_values: tuple[str, ...] = ()  # longest first, so a whole value goes before its pieces


# libpq's keyword/value connection strings ("host=db password='p w' ..."): the keywords that hold secrets,
# and one value, single-quoted (backslash escapes) or bare.
_DSN_SECRET = re.compile(r"\b(?:password|sslpassword)\s*=\s*('(?:[^'\\]|\\.)*'|[^\s']+)", re.IGNORECASE)


def keyword_dsn_secrets(text: str) -> list[str]:
    """The secret values of a libpq keyword/value connection string, quoted as written and unquoted."""
    out = []
    for m in _DSN_SECRET.finditer(text):
        written = m.group(1)
        out.append(written)
        if written.startswith("'"):
            out.append(re.sub(r"\\(.)", r"\1", written[1:-1]))
    return out


def url_secrets(url: str | None) -> list[str]:
    """The secret parts of a URL: userinfo, the query, token-like parameter values, the fragment.

    A text that is no URL but a libpq keyword/value connection string yields its password values.
    """
    if not url or not isinstance(url, str):
        return []
    if "://" not in url and "=" in url:
        return keyword_dsn_secrets(url)
    try:
        parts = urlsplit(url)
        user, password = parts.username, parts.password
    except ValueError:
        return [url]  # unparseable: the whole text is the only safe unit
    out = []
    if "@" in parts.netloc:
        userinfo = parts.netloc.rpartition("@")[0]
        if password or parts.scheme not in USER_NAME_SCHEMES:
            out += [userinfo, unquote(userinfo)]
        if password:
            out += [password, unquote(password)]
        elif user and ":" not in userinfo and parts.scheme not in USER_NAME_SCHEMES:
            out += [user]  # a bare token as userinfo (https://TOKEN@host)
    if parts.query:
        out += [parts.query, unquote(parts.query)]
        for name, value in parse_qsl(parts.query, keep_blank_values=False):
            if _SECRET_PARAM.search(name) or len(value) >= _LONG_VALUE:
                out.append(value)
    if parts.fragment:
        out.append(parts.fragment)
    return out


def header_secrets(auth_header: str | None) -> list[str]:
    """The secret parts of an auth header: the whole, its value, the bare token, Basic's user:password."""
    if not auth_header or not isinstance(auth_header, str):
        return []
    text = auth_header.strip()
    out = [text]
    m = re.match(r"^[A-Za-z][A-Za-z0-9-]*:\s+(\S.*)$", text)  # "X-API-Key: value"
    value = m.group(1) if m else text
    out.append(value)
    words = value.split()
    if len(words) > 1:  # "Bearer TOKEN", "Basic B64": a server may echo the token alone
        out.append(words[-1])
        if words[0].lower() == "basic":
            try:
                decoded = base64.b64decode(words[-1], validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                decoded = ""
            out += [decoded, decoded.partition(":")[2]]
    return out


def config_secrets(obj: Any) -> list[str]:
    """Every secret value a config holds: fields named in SECRET_KEYS whole, URL_KEYS' secret parts.

    Walks dataclasses, mappings and sequences, so it serves the job config and plain settings alike
    without importing either.
    """
    out: list[str] = []
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        items = [(f.name, getattr(obj, f.name)) for f in dataclasses.fields(obj)]
    elif isinstance(obj, dict):
        items = list(obj.items())
    elif isinstance(obj, (list, tuple)):
        items = [("", v) for v in obj]
    else:
        return out
    for name, value in items:
        if name in SECRET_KEYS:
            out += header_secrets(value)
        elif name in URL_KEYS:
            out += url_secrets(value)
        else:
            out += config_secrets(value)
    return out


def register(values: Iterable[str | None]) -> None:
    """Adds secret values to this process's registry and makes sure log handlers redact them."""
    global _values
    new = {v for v in values if isinstance(v, str) and len(v) >= MIN_LENGTH}
    if new - set(_values):
        with _lock:
            _values = tuple(sorted(set(_values) | new, key=len, reverse=True))
    protect_logging()


def redact(text: str) -> str:
    """`text` with every registered secret value replaced by ``<redacted>``."""
    values = _values
    if not values or not text:
        return text
    for v in values:
        if v in text:
            text = text.replace(v, REDACTED)
    return text


class RedactingFilter(logging.Filter):
    """Rewrites a record's message, exception and stack text with the secrets redacted."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not _values:
            return True
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a malformed record is logged as Python would, unredacted args dropped
            message = str(record.msg)
        record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


_FILTER = RedactingFilter()


def protect_logging() -> None:
    """Puts the redacting filter on every handler of the root logger and on Python's last-resort one.

    Call again after anything replaces the root handlers (``logging.basicConfig(force=True)``).
    """
    handlers = list(logging.getLogger().handlers)
    if logging.lastResort is not None:
        handlers.append(logging.lastResort)
    for h in handlers:
        if _FILTER not in h.filters:
            h.addFilter(_FILTER)


class RedactingStream:
    """A text stream that redacts what is written to it (the command line's stdout and stderr)."""

    def __init__(self, stream: TextIO):
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(redact(text))
        return len(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)
