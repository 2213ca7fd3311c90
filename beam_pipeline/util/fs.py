"""Thin helpers over Beam's FileSystems, so local, gs:// and s3:// share one code path.

The few places where a scheme behaves differently (local renames need the target directory to
exist; object stores have no directories) are handled here and nowhere else. Local bookkeeping
directories (``_locks/``, ``_commits/``, ``_temporary/``) are removed once empty
(`remove_empty_dir`), so that a finished run leaves the same listing on disk as on an object store;
every local create, rename and exclusive create therefore recreates a parent directory that another
run removed between ``makedirs`` and the create (`_in_local_dir`).
"""

from __future__ import annotations

import os
import posixpath
import shutil

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


# How often a local create retries when its parent directory vanished meanwhile: each retry needs another
# run to empty and remove that very directory in the instant between makedirs and the create.
PARENT_ATTEMPTS = 100


def _in_local_dir(path: str, make):
    """`make()` after creating `path`'s local parent; again when another run removed the (empty) parent first.

    `remove_empty_dir` only ever removes an empty directory, so once `make()` has put a file in the
    directory it stays; the window is between ``makedirs`` and `make()`, and a FileNotFoundError
    with the parent gone means exactly that.
    """
    parent = os.path.dirname(path) or "."
    for attempt in range(PARENT_ATTEMPTS):
        try:
            os.makedirs(parent, exist_ok=True)
            return make()
        except FileNotFoundError:
            if os.path.isdir(parent) or attempt + 1 == PARENT_ATTEMPTS:
                raise
    raise AssertionError("unreachable")


def remove_empty_dir(directory: str) -> bool:
    """Removes a local directory if it is empty (True if it did); object stores have no directories.

    Atomic: ``rmdir`` fails, and nothing happens, when another run has put a file in it meanwhile;
    a run about to create a file there recreates the directory (`_in_local_dir`).
    """
    if not is_local(directory):
        return False
    try:
        os.rmdir(directory)
    except OSError:  # not empty (in use by another run), already gone, or not ours to remove
        return False
    return True


def remove_empty_parents(path: str, top: str) -> None:
    """Removes `path`'s local parent directories that are empty, from the nearest up to and including `top`."""
    if not is_local(path):
        return
    top = os.path.normpath(top)
    parent = os.path.dirname(os.path.normpath(path))
    while parent == top or parent.startswith(top + os.sep):
        if not remove_empty_dir(parent) and os.path.isdir(parent):
            return  # in use: so are the directories above it
        parent = os.path.dirname(parent)


def create(path: str):
    """A writable binary stream; local parent directories are created."""
    prepare(path)

    def make():
        return FileSystems.create(
            path, mime_type="application/octet-stream", compression_type=CompressionTypes.UNCOMPRESSED
        )

    return _in_local_dir(path, make) if is_local(path) else make()


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
        def move():
            try:
                os.rename(src, dst)
            except FileNotFoundError:
                if not os.path.exists(src) and os.path.exists(dst):
                    return
                raise

        _in_local_dir(dst, move)
        return
    try:
        FileSystems.rename([src], [dst])
    except Exception:
        if not FileSystems.exists(src) and FileSystems.exists(dst):
            return
        raise


def glob_escape(path: str) -> str:
    """`path` as a FileSystems.match pattern that matches only itself.

    Beam's patterns have no quoting (``translate_pattern``), but a one-character class is literal:
    ``*`` -> ``[*]``, ``?`` -> ``[?]``, ``[`` -> ``[[]``. A config's ``path_prefix`` such as
    ``[ps]ubnet`` or ``net*`` must name one directory, never its siblings.
    """
    return "".join(f"[{c}]" if c in "*?[" else c for c in path)


def list_files(directory: str, pattern: str = "*") -> list[tuple[str, int]]:
    """(path, size) of the files directly in `directory` (a literal path) matching `pattern`."""
    prepare(directory)
    glob = join(glob_escape(directory), pattern)
    return _match(glob, directory)


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
    return _match(glob_escape(directory.rstrip("/")) + "/**", directory)


def list_tree_if_any(directory: str) -> list[tuple[str, int]]:
    """`list_tree`, or nothing when the directory (a local folder or an object-store prefix) does not exist."""
    if is_local(directory) and not os.path.isdir(directory):
        return []
    try:
        return list_tree(directory)
    except Exception as e:  # noqa: BLE001 - object stores raise for an absent prefix
        if is_local(directory) or "No files found" not in str(e):
            raise
        return []


def _match(glob: str, directory: str) -> list[tuple[str, int]]:
    """(path, size) of the files matching `glob`; a remote listing within REMOTE_DEADLINE_S, else
    DeadlineExceeded names the directory (Beam retries an unreachable store's listing for minutes)."""

    def match() -> list[tuple[str, int]]:
        result = FileSystems.match([glob])[0]
        return sorted((m.path, m.size_in_bytes) for m in result.metadata_list)

    if is_local(directory):
        return match()
    return call_with_deadline(match, REMOTE_DEADLINE_S, f"listing {directory}")


def delete(paths: list[str]) -> None:
    """Deletes files; ones already gone (an earlier attempt of a retried bundle) are fine.

    Paths are literal: Beam's local and GCS deletes expand glob patterns, so those are escaped.
    """
    if not paths:
        return
    prepare(paths[0])
    present = [p for p in paths if FileSystems.exists(p)]
    local = [p for p in present if is_local(p)]
    for p in local:
        if os.path.isdir(p):
            shutil.rmtree(p)
        else:
            os.remove(p)
    remote = [p for p in present if not is_local(p)]
    if remote:
        FileSystems.delete([glob_escape(p) if p.startswith("gs://") else p for p in remote])


def create_exclusive(path: str, data: bytes) -> bool:
    """Writes `path` only if no object is there yet; False when one is (a lock held by someone else).

    The check and the write are one atomic step on every backend: ``O_EXCL`` locally, a
    ``ifGenerationMatch=0`` precondition on GCS, ``If-None-Match: *`` on S3.
    """
    prepare(path)
    if is_local(path):
        try:
            fd = _in_local_dir(path, lambda: os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
        except FileExistsError:
            return False
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        return True
    scheme, rest = path.split("://", 1)
    bucket, _, key = rest.partition("/")
    filesystem = FileSystems.get_filesystem(path)
    if scheme == "s3":
        from apache_beam.io.aws import s3io

        client = s3io.S3IO(options=filesystem._options).client.client  # boto3 (or the bucket router)
        try:
            client.put_object(Bucket=bucket, Key=key, Body=data, IfNoneMatch="*")
        except Exception as e:  # noqa: BLE001 - only "already there" is an answer; the rest is raised
            code = getattr(e, "response", {}).get("Error", {}).get("Code", "")
            if code in ("PreconditionFailed", "ConditionalRequestConflict", "412"):
                return False
            raise
        return True
    if scheme == "gs":
        from google.api_core.exceptions import PreconditionFailed

        if FileSystems.exists(path):  # the precondition below decides races; this spares a failed upload
            return False
        client = filesystem._gcsIO().client
        try:
            client.bucket(bucket).blob(key).upload_from_string(data, if_generation_match=0)
        except PreconditionFailed:
            return False
        return True
    raise ValueError(f"{path}: no exclusive create for scheme {scheme!r}")


def delete_tree(directory: str) -> None:
    """Deletes a directory (local) or every object under a prefix (object stores); absent is fine."""
    if is_local(directory):
        if os.path.isdir(directory):
            shutil.rmtree(directory)
        remove_empty_dir(os.path.dirname(directory.rstrip("/")))  # e.g. the shared _temporary/, once no run uses it
        return
    files = [p for p, _ in list_tree(directory)]
    delete(files)
