"""Bounded decompression: the one place that turns compressed bytes from outside into plain bytes.

Every reader (data store objects, the time-range search, RPC response bodies, the benchmark, the
decode step's own chunks) goes through `decompress`, so a decompression bomb is refused the same way
everywhere: by streaming the output and stopping as soon as it passes the limit, never by asking
the library for "up to N bytes" (which allocates N bytes first: an 8 GiB limit meant an 8 GiB
allocation, a MemoryError under a 4 GB memory limit that named no object).

How the bound holds. The compressed input is fed in small pieces, each small enough that its
output cannot overshoot the remaining budget by much: a zstd block regenerates at most 128 KiB
from at least 4 bytes (an RLE block), so ``n`` input bytes yield at most about ``n * 32768 + 128 KiB``
(the block the previous piece left half-read). The piece size follows the remaining budget, so
ordinary objects go through in a few large pieces and only a bomb is walked byte by byte near the
limit. A single frame that declares its size within the bound (what one compressor call writes: our
chunks, most objects) is decompressed in one call instead, the library holding it to that size.
zlib (``gzip``/``deflate`` HTTP bodies) takes an output bound natively.
"""

from __future__ import annotations

import zlib

import zstandard

ZSTD_MAX_RATIO = 32768  # 128 KiB block from a 4-byte RLE block: zstd's largest output per input byte
_ZSTD_SLACK = 128 * 1024  # one block the previous piece may have left half-read
_MIN_PIECE = 64
_MAX_PIECE = 16384  # at most 512 MiB from one step; real objects need a handful of steps
ENCODINGS = ("zstd", "gzip", "deflate")
_WRITE_SIZE = 1 << 17  # output buffer of one decompressor step (zstd's recommended size)


class DecompressionError(ValueError):
    """Compressed data that is corrupt, truncated, empty or too large; the message names it."""


def decompress(data: bytes, what: str, max_output: int, encoding: str = "zstd") -> bytes:
    """`data` (zstd frames, or a gzip/deflate body) -> the plain bytes, at most `max_output` of them.

    Args:
        data: the compressed bytes (one or more concatenated zstd frames).
        what: names the data in errors (an object path, ``getLedgers response from <url>``).
        max_output: refuse output larger than this. Memory stays within about twice it: the output
            so far plus one step's output while the library joins it.
        encoding: ``zstd`` (data stores, chunks), ``gzip`` or ``deflate`` (HTTP bodies).

    Raises:
        DecompressionError: corrupt or truncated data, no output at all, or more than `max_output`.
    """
    if encoding == "zstd":
        return _zstd(data, what, max_output)
    if encoding in ("gzip", "deflate"):
        return _zlib(data, what, max_output, zlib.MAX_WBITS | 16 if encoding == "gzip" else zlib.MAX_WBITS)
    raise DecompressionError(f"{what}: unsupported compression {encoding!r} (known: {', '.join(ENCODINGS)})")


def _too_large(what: str, max_output: int) -> DecompressionError:
    return DecompressionError(f"{what}: decompresses to more than {max_output} bytes; refused")


def _zstd(data: bytes, what: str, max_output: int) -> bytes:
    whole = _zstd_one_frame(data, max_output)
    if whole is not None:
        return whole
    view = memoryview(data)
    out: list[bytes] = []
    pos, total = 0, 0
    dctx = zstandard.ZstdDecompressor()  # not thread-safe: one per call; frames reuse it in turn
    dobj = None  # the current frame's decompressor; a fresh one per frame
    try:
        while pos < len(view) or (dobj is not None and dobj.eof and dobj.unused_data):
            if dobj is None or dobj.eof:
                pending = bytes(dobj.unused_data) if dobj is not None else b""
                dobj = dctx.decompressobj(write_size=_WRITE_SIZE)
                if pending:
                    total += _feed(dobj, pending, out)
                    if total > max_output:
                        raise _too_large(what, max_output)
                    continue
            budget = max_output - total
            piece = min(_MAX_PIECE, max(_MIN_PIECE, (budget - _ZSTD_SLACK) // ZSTD_MAX_RATIO))
            total += _feed(dobj, view[pos:pos + piece], out)
            pos += piece
            if total > max_output:
                raise _too_large(what, max_output)
    except zstandard.ZstdError as e:
        raise DecompressionError(f"{what}: corrupt zstd data: {e}") from None
    if dobj is None or total == 0:
        raise DecompressionError(f"{what}: empty or truncated zstd frame")
    if not dobj.eof:
        # The last frame stopped short: its prefix would surface later as a misleading XDR error.
        raise DecompressionError(f"{what}: truncated zstd frame ({len(data)} bytes end before the frame does)")
    return out[0] if len(out) == 1 else b"".join(out)


def _zstd_one_frame(data: bytes, max_output: int) -> bytes | None:
    """The output of `data` in one call when it is one frame that declares a size within the bound, else None.

    The common case (an object or chunk written by one compressor call) then costs one allocation of the
    declared size instead of pieces joined at the end (~4x faster on a MB-sized chunk). The library checks
    the output against the declared size, so the bound holds. Anything else (several frames, no declared
    size, corrupt data) returns None and goes the streaming way, which words the errors.
    """
    try:
        params = zstandard.get_frame_parameters(data)
        pos = zstandard.frame_header_size(data)
    except zstandard.ZstdError:
        return None
    if not 0 < params.content_size <= max_output:  # -1: not declared
        return None
    # Walk the frame's block headers (3 bytes each: last flag, type, size) to its end: one frame, nothing after.
    while True:
        if pos + 3 > len(data):
            return None
        header = int.from_bytes(data[pos:pos + 3], "little")
        kind, size = (header >> 1) & 3, header >> 3
        if kind == 3:  # reserved
            return None
        pos += 3 + (1 if kind == 1 else size)  # an RLE block stores one byte
        if header & 1:
            break
    if pos + (4 if params.has_checksum else 0) != len(data):
        return None
    size = params.content_size
    try:
        return zstandard.ZstdDecompressor().decompress(data, max_output_size=size, allow_extra_data=False)
    except zstandard.ZstdError:
        return None


def _feed(dobj, piece, out: list[bytes]) -> int:
    chunk = dobj.decompress(piece)
    if chunk:
        out.append(chunk)
    return len(chunk)


def _zlib(data: bytes, what: str, max_output: int, wbits: int) -> bytes:
    dobj = zlib.decompressobj(wbits)
    try:
        out = dobj.decompress(data, max_output + 1)
    except zlib.error as e:
        raise DecompressionError(f"{what}: corrupt compressed data: {e}") from None
    if len(out) > max_output:
        raise _too_large(what, max_output)
    if not dobj.eof:
        raise DecompressionError(f"{what}: truncated compressed data")
    return out
