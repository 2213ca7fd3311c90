"""What a source hands to the rest of the pipeline.

A source is a composite PTransform ``PBegin -> PCollection[LedgerBlob]``. It resolves
everything it can (network passphrase, object layout, ledger range) when it is constructed, so
that configuration errors surface before any Beam work starts. Blobs are raw XDR bytes: decoding
happens in the same fused step that turns ledgers into rows (``decode.LedgersToRows``).
"""

from __future__ import annotations

from typing import NamedTuple


class LedgerBlob(NamedTuple):
    """Raw XDR for one or more consecutive ledgers.

    Attributes:
        origin: where the bytes came from (object key, or RPC url and ledger); names errors.
        kind: ``"batch"`` (a LedgerCloseMetaBatch), ``"ledger"`` (one LedgerCloseMeta) or ``"error"``.
        data: the uncompressed XDR.
        first: first ledger wanted from this blob (earlier ledgers are trimmed).
        last: last ledger wanted from this blob (later ledgers are trimmed).
        expected_start: for a batch, the startSequence its object key promises (checked).
        expected_end: for a batch, the endSequence its object key promises (checked).
    """

    origin: str
    kind: str
    data: bytes
    first: int
    last: int
    expected_start: int = -1
    expected_end: int = -1


BATCH = "batch"
LEDGER = "ledger"
# A unit the source could not load (dead-letter mode only): `data` holds the UTF-8 error message.
ERROR = "error"
