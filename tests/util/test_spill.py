"""Spill files: what is put comes back byte for byte, and a lost or cut file is named when read."""

from __future__ import annotations

import os

import pytest

from beam_pipeline.util import spill


def test_payloads_come_back_in_any_order_from_several_files(tmp_path):
    payloads = [os.urandom(n) for n in (0, 1, 17, 4096, 70_000)]
    files = [spill.SpillFile(str(tmp_path)), spill.SpillFile(str(tmp_path))]
    refs = [files[i % 2].put(p) for i, p in enumerate(payloads)]
    for f in files:
        f.close()
    assert len({r.path for r in refs}) == 2 and all(r.path.startswith(str(tmp_path)) for r in refs)
    for ref, payload in reversed(list(zip(refs, payloads, strict=True))):
        assert spill.read(ref) == payload


def test_a_removed_spill_file_is_named(tmp_path):
    f = spill.SpillFile(str(tmp_path))
    ref = f.put(b"chunk")
    f.close()
    os.unlink(ref.path)
    with pytest.raises(spill.SpillError, match=f"cannot read spill file {ref.path}.*removed while it ran"):
        spill.read(ref)


def test_a_truncated_spill_file_is_named(tmp_path):
    f = spill.SpillFile(str(tmp_path))
    f.put(b"a" * 10)
    ref = f.put(b"b" * 10)
    f.close()
    os.truncate(ref.path, 15)
    with pytest.raises(spill.SpillError, match=f"spill file {ref.path} ends at 15, before the 10 bytes at offset 10"):
        spill.read(ref)


def test_a_spill_directory_that_is_gone_is_named(tmp_path):
    gone = tmp_path / "gone"
    with pytest.raises(spill.SpillError, match=f"cannot create spill file {gone}/.*--local_spill_dir"):
        spill.SpillFile(str(gone))
