"""The one bounded decompressor: exact output, every kind of damage named, bombs refused in bounded memory."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
import textwrap

import pytest
import zstandard

from beam_pipeline.config import DatastoreSourceConfig
from beam_pipeline.xdr.compression import DecompressionError, decompress

PLAIN_A = os.urandom(300_000) + bytes(1_000_000)
PLAIN_B = bytes(range(256)) * 5000
FRAMES = zstandard.ZstdCompressor(level=3).compress(PLAIN_A) + zstandard.ZstdCompressor(level=3).compress(PLAIN_B)
# The pipeline's bound on an object's decompressed size at the default max_object_size_mb (8x it).
DEFAULT_BOUND = int(DatastoreSourceConfig.max_object_size_mb * 1024 * 1024) * 8


def test_several_frames_decompress_exactly_up_to_the_bound():
    assert decompress(FRAMES, "obj", len(PLAIN_A) + len(PLAIN_B)) == PLAIN_A + PLAIN_B
    with pytest.raises(DecompressionError, match=f"^obj: decompresses to more than {len(PLAIN_A)} bytes; refused$"):
        decompress(FRAMES, "obj", len(PLAIN_A))


DAMAGED = {
    "cut in the first frame": (FRAMES[: len(FRAMES) // 3], "obj: truncated zstd frame"),
    "cut in the last frame": (FRAMES[:-3], "obj: truncated zstd frame"),
    "empty": (b"", "obj: empty or truncated zstd frame"),
    "trailing garbage": (FRAMES + b"garbage!", "obj: corrupt zstd data"),
    "not zstd": (b"\0" * 100, "obj: corrupt zstd data"),
}


@pytest.mark.parametrize("case", list(DAMAGED))
def test_damage_is_an_error_naming_the_data(case):
    data, message = DAMAGED[case]
    with pytest.raises(DecompressionError, match=f"^{message}"):
        decompress(data, "obj", 10 << 20)


ONE_FRAME = zstandard.ZstdCompressor(level=1, write_checksum=True).compress(PLAIN_A)


@pytest.mark.parametrize(
    "data,bound,expected",
    [
        (ONE_FRAME, len(PLAIN_A), PLAIN_A),  # one frame declaring its size: decompressed in one call
        (ONE_FRAME + FRAMES, 3 * len(PLAIN_A), PLAIN_A + PLAIN_A + PLAIN_B),  # more frames after it: streamed
        (ONE_FRAME, len(PLAIN_A) - 1, "obj: decompresses to more than"),  # declares more than the bound
        (ONE_FRAME[:-1], len(PLAIN_A), "obj: truncated zstd frame"),  # its checksum cut short
        (ONE_FRAME + b"x", len(PLAIN_A), "obj: corrupt zstd data"),  # something after the frame
    ],
)
def test_one_frame_in_one_call_says_and_refuses_what_streaming_does(data, bound, expected):
    """The one-call path for a single frame gives the same bytes, bounds and errors as the streaming one."""
    if isinstance(expected, bytes):
        assert decompress(data, "obj", bound) == expected
    else:
        with pytest.raises(DecompressionError, match=f"^{expected}"):
            decompress(data, "obj", bound)


def test_gzip_bodies_are_bounded_too():
    body = gzip.compress(b"ledger" * 1000)
    assert decompress(body, "resp", 6000, "gzip") == b"ledger" * 1000
    with pytest.raises(DecompressionError, match="^resp: decompresses to more than 5999 bytes; refused$"):
        decompress(body, "resp", 5999, "gzip")
    with pytest.raises(DecompressionError, match="^resp: unsupported compression 'br'"):
        decompress(body, "resp", 6000, "br")


@pytest.mark.timeout(300)
def test_a_bomb_under_the_default_limit_is_refused_within_a_memory_limit(tmp_path):
    """8 GiB of zeros in ~270 KB, decompressed under an address-space limit of ~2.5 GiB more than the
    interpreter already has: asking the library for "up to the bound" (the old code) allocated the
    whole bound first and died with a MemoryError naming nothing; streaming stops at the bound."""
    frame = zstandard.ZstdCompressor(level=19).compress(bytes(64 << 20))
    bomb = tmp_path / "bomb.xdr.zst"
    bomb.write_bytes(frame * 128)
    assert bomb.stat().st_size < 1 << 20
    script = textwrap.dedent(f"""
        import resource, sys
        from beam_pipeline.xdr.compression import DecompressionError, decompress
        data = open({str(bomb)!r}, "rb").read()
        with open("/proc/self/status") as f:
            vm = next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmSize:"))
        resource.setrlimit(resource.RLIMIT_AS, (vm + (5 << 29), vm + (5 << 29)))
        try:
            decompress(data, {str(bomb)!r}, {DEFAULT_BOUND})
        except DecompressionError as e:
            print("refused:", e)
        except MemoryError:
            print("MemoryError")
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=240)
    assert proc.stdout.strip() == f"refused: {bomb}: decompresses to more than {DEFAULT_BOUND} bytes; refused", (
        proc.stdout + proc.stderr
    )
