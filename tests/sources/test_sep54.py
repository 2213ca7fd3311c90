"""The SEP-54 key formula and manifest, against the README's examples and the real stores."""

from __future__ import annotations

import pytest

from beam_pipeline.sources import sep54
from beam_pipeline.sources.datastore import object_specs
from tests.harness import DATASTORES


@pytest.mark.parametrize(
    "seq, n, m, ext, key",
    [
        (0, 1, 64000, "zst", "FFFFFFFF--0-63999/FFFFFFFF--0.xdr.zst"),
        (50000000, 1, 64000, "zst", "FD054DFF--49984000-50047999/FD050F7F--50000000.xdr.zst"),
        (56065483, 1, 64000, "zst", "FCA887FF--56064000-56127999/FCA88234--56065483.xdr.zst"),
        (1410100, 64, 10, "zst", "FFEA7C7F--1409920-1410559/FFEA7BFF--1410048-1410111.xdr.zst"),
        (997, 1, 64000, "zstd", "FFFFFFFF--0-63999/FFFFFC1A--997.xdr.zstd"),
        (130, 64, 1, "zst", "FFFFFF7F--128-191.xdr.zst"),
    ],
)
def test_object_key_formula(seq, n, m, ext, key):
    assert sep54.object_key(seq, n, m, ext) == key


@pytest.mark.parametrize("name", sorted(p.name for p in DATASTORES.iterdir()))
def test_every_real_object_sits_at_its_formula_key(name):
    root = DATASTORES / name
    manifest = sep54.parse_manifest((root / ".config.json").read_text(), str(root))
    objects = [p for p in root.rglob("*.xdr.zst*") if p.parent != root or manifest.batches_per_partition == 1]
    assert objects
    for path in objects:
        start = int(path.name.split("--")[1].split("-")[0].split(".")[0])
        ext = path.name.rsplit(".", 1)[1]
        key = sep54.object_key(start, manifest.ledgers_per_batch, manifest.batches_per_partition, ext)
        assert str(path.relative_to(root)) == key


def test_specs_trim_the_edges_of_64_ledger_batches():
    manifest = sep54.Manifest("Test SDF Network ; September 2015", 64, 10, "zstd")
    specs = object_specs(1410100, 1410250, manifest, "zst")
    assert [(s.batch_start, s.batch_end, s.first, s.last) for s in specs] == [
        (1410048, 1410111, 1410100, 1410111),
        (1410112, 1410175, 1410112, 1410175),
        (1410176, 1410239, 1410176, 1410239),
        (1410240, 1410303, 1410240, 1410250),
    ]
    assert specs[0].key == "FFEA7C7F--1409920-1410559/FFEA7BFF--1410048-1410111.xdr.zst"


@pytest.mark.parametrize(
    "text, message",
    [
        ("{not json", "malformed JSON"),
        ("[]", "expected a JSON object"),
        ('{"ledgersPerBatch": 1, "batchesPerPartition": 2}', "networkPassphrase is missing"),
        ('{"networkPassphrase": "x", "ledgersPerBatch": "1", "batchesPerPartition": 2}',
         "ledgersPerBatch must be int"),
        ('{"networkPassphrase": "x", "ledgersPerBatch": 0, "batchesPerPartition": 2}',
         "ledgersPerBatch must be at least 1"),
        ('{"networkPassphrase": "x", "ledgersPerBatch": 1, "batchesPerPartition": 2, "compression": "gzip"}',
         "compression 'gzip' is not supported"),
    ],
)
def test_bad_manifests_name_the_file(text, message):
    with pytest.raises(sep54.DatastoreError) as e:
        sep54.parse_manifest(text, "store/.config.json")
    assert str(e.value).startswith("store/.config.json: ") and message in str(e.value)
