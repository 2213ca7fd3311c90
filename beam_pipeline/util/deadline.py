"""A total deadline for a call that may wait on the network for longer than anyone should.

Some waits are not ours to bound from inside: Beam's file systems retry an unreachable S3 or GCS
endpoint with exponential backoff for minutes (``apache_beam.utils.retry``), and botocore retries
under that. Where such a call is best effort (cleaning up after a run that already failed), the
caller runs it here and moves on at the deadline with an error naming what it waited for; the
abandoned call finishes or fails in a daemon thread that never holds the process open.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class DeadlineExceeded(TimeoutError):
    """The call did not finish in time; the message names what it was doing."""


def call_with_deadline(fn: Callable[[], T], seconds: float, what: str) -> T:
    """`fn()`'s result, or its exception, or DeadlineExceeded after `seconds` naming `what`."""
    outcome: dict[str, object] = {}

    def target() -> None:
        try:
            outcome["value"] = fn()
        except BaseException as e:  # noqa: BLE001 - handed to the caller below
            outcome["error"] = e

    thread = threading.Thread(target=target, name=f"deadline: {what}"[:60], daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        raise DeadlineExceeded(f"{what}: not finished within {seconds:g}s (still retrying; given up)")
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["value"]  # type: ignore[return-value]
