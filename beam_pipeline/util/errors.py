"""An exception as one line of a message: drivers and clients put several lines (and tracebacks) in theirs."""

from __future__ import annotations


def first_line(e: BaseException) -> str:
    """The first non-blank line of `e`'s message, or its class name when the message is empty."""
    lines = [ln.strip() for ln in str(e).splitlines() if ln.strip()]
    return lines[0] if lines else type(e).__name__
