"""Loads the real test ledgers under ``../shared/ledgers/datastores`` for table tests.

Decoding is slow (the p25 load test takes ~25 s for 30 ledgers), so results are cached per
(datastore, limit) for the whole test session and ``limit`` stops decoding early.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import zstandard

from beam_pipeline.sources.sep54 import parse_object_name
from beam_pipeline.xdr.ledger import LedgerView, decode_batch
from tests.harness import DATASTORES as DATASTORES_DIR
from tests.harness import GOLDEN as GOLDEN_DIR


def datastore_names() -> list[str]:
    """Every datastore directory present, sorted."""
    return sorted(p.name for p in DATASTORES_DIR.iterdir() if (p / ".config.json").is_file())


def _objects(root: Path) -> list[tuple[int, Path]]:
    """(start sequence, path) of each distinct batch object, in ledger order.

    A datastore may hold byte-identical copies of a batch at two keys (testnet-p20-galexie),
    so objects are de-duplicated by their start sequence.
    """
    found: dict[int, Path] = {}
    for path in sorted(root.rglob("*.xdr.zst*")):
        bounds = parse_object_name(path.name)
        if bounds is None:
            raise ValueError(f"unexpected object name {path}")
        found.setdefault(bounds[0], path)
    return sorted(found.items())


@cache
def _load(name: str, limit: int | None) -> tuple[LedgerView, ...]:
    root = DATASTORES_DIR / name
    passphrase = json.loads((root / ".config.json").read_text())["networkPassphrase"]
    decompressor = zstandard.ZstdDecompressor()
    views: list[LedgerView] = []
    for _, path in _objects(root):
        batch = decode_batch(decompressor.decompress(path.read_bytes(), max_output_size=1 << 30))
        for lcm in batch.ledger_close_metas:
            views.append(LedgerView(lcm, passphrase, source=str(path)))
            if limit is not None and len(views) >= limit:
                return tuple(views)
    return tuple(views)


def load_ledgers(name: str, limit: int | None = None) -> list[LedgerView]:
    """The LedgerViews of datastore `name` in sequence order (at most `limit` of them).

    The views are shared across calls; do not mutate them.
    """
    return list(_load(name, limit))


def load_golden(kind: str, file: str) -> list[dict]:
    """Rows of a stellar-etl golden file (JSON lines) under ``golden/stellar-etl/<kind>/``."""
    with open(GOLDEN_DIR / kind / file) as fh:
        return [json.loads(line) for line in fh if line.strip()]
