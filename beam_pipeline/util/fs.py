"""Thin helpers over Beam's FileSystems, so local, gs:// and s3:// share one code path.

The few places where a scheme behaves differently (local renames need the target directory to
exist; object stores have no directories) are handled here and nowhere else.
"""

from __future__ import annotations

import os
import posixpath

from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

from beam_pipeline.util.deadline import DeadlineExceeded as DeadlineExceeded  # callers catch it from here
from beam_pipeline.util.deadline import call_with_deadline
from beam_pipeline.util.storage import prepare


class ObjectTooLarge(IOError):
    pass


def is_local(path: str) -> bool:
    return "://" not in path


def join(base: str, *parts: str) -> str:
    parts = [p.strip("/") for p in parts if p]
    if is_local(base):
        return os.path.join(base, *parts)
    return posixpath.join(base.rstrip("/"), *parts)


# A read or existence check of one remote object may take this long in total. Beam's S3/GCS clients
# retry an unreachable endpoint with exponential backoff for many minutes; past this the call fails
# with DeadlineExceeded naming the object (util/deadline.py), and the reader reports it.
REMOTE_DEADLINE_S = 300.0


def exists(path: str) -> bool:
    prepare(path)
    if is_local(path):
        return FileSystems.exists(path)
    return call_with_deadline(lambda: FileSystems.exists(path), REMOTE_DEADLINE_S, f"checking {path}")


def read_bytes(path: str, max_bytes: int | None = None) -> bytes:
    """Reads a whole object; refuses one larger than `max_bytes` before reading it into memory.

    A remote object must be read within REMOTE_DEADLINE_S, else DeadlineExceeded names it.
    """
    prepare(path)
    if is_local(path):
        return _read_bytes(path, max_bytes)
    return call_with_deadline(lambda: _read_bytes(path, max_bytes), REMOTE_DEADLINE_S, f"reading {path}")


def _read_bytes(path: str, max_bytes: int | None) -> bytes:
    with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as f:
        if max_bytes is None:
            return f.read()
        data = f.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ObjectTooLarge(f"{path}: object is larger than the configured maximum of {max_bytes} bytes")
    return data


def create(path: str):
    """A writable binary stream; local parent directories are created."""
    prepare(path)
    if is_local(path):
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    return FileSystems.create(
        path, mime_type="application/octet-stream", compression_type=CompressionTypes.UNCOMPRESSED
    )


def write_bytes(path: str, data: bytes) -> None:
    with create(path) as f:
        f.write(data)


def rename(src: str, dst: str) -> None:
    """Moves one file; the target appears whole (local rename, or a server-side object copy).

    Idempotent, because runners retry bundles: when the source is gone and the target exists, an
    earlier attempt already moved it.
    """
    prepare(dst)
    if is_local(dst):
        os.makedirs(os.path.dirname(dst) or ".", exist_ok=True)
    try:
        FileSystems.rename([src], [dst])
    except Exception:
        if not FileSystems.exists(src) and FileSystems.exists(dst):
            return
        raise


def list_files(directory: str, pattern: str = "*") -> list[tuple[str, int]]:
    """(path, size) of the files directly in `directory` matching `pattern`."""
    prepare(directory)
    glob = join(directory, pattern)
    result = FileSystems.match([glob])[0]
    return sorted((m.path, m.size_in_bytes) for m in result.metadata_list)


def list_tree(directory: str) -> list[tuple[str, int]]:
    """(path, size) of every file below `directory`, recursively."""
    if is_local(directory):
        out = []
        for dirpath, _, names in os.walk(directory):
            for n in names:
                p = os.path.join(dirpath, n)
                out.append((p, os.path.getsize(p)))
        return sorted(out)
    prepare(directory)
    result = FileSystems.match([directory.rstrip("/") + "/**"])[0]
    return sorted((m.path, m.size_in_bytes) for m in result.metadata_list)


def delete(paths: list[str]) -> None:
    """Deletes files; ones already gone (an earlier attempt of a retried bundle) are fine."""
    if paths:
        prepare(paths[0])
        present = [p for p in paths if FileSystems.exists(p)]
        if present:
            FileSystems.delete(present)


def delete_tree(directory: str) -> None:
    """Deletes a directory (local) or every object under a prefix (object stores); absent is fine."""
    if is_local(directory):
        if os.path.isdir(directory):
            FileSystems.delete([directory])
        parent = os.path.dirname(directory.rstrip("/"))
        if os.path.isdir(parent) and not os.listdir(parent):
            os.rmdir(parent)  # the shared _temporary/ directory, once no run uses it
        return
    files = [p for p, _ in list_tree(directory)]
    delete(files)
