"""A real GCS JSON API on 127.0.0.1: `gcp-storage-emulator`, in memory, reached via STORAGE_EMULATOR_HOST.

This emulator (unlike fake-gcs-server) implements the batch endpoint Beam's gcsio uses for
renames and deletes. Clients find it through ``STORAGE_EMULATOR_HOST``, which
``google-cloud-storage`` honours by itself and `beam_pipeline.util.storage` uses to skip Beam's
credential lookup.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


@dataclass
class GcsServer:
    endpoint: str

    def client(self):
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import storage

        return storage.Client(
            project="test", credentials=AnonymousCredentials(), client_options={"api_endpoint": self.endpoint}
        )

    def create_bucket(self, name: str) -> None:
        self.client().create_bucket(name)

    def upload_tree(self, local_dir: str | os.PathLike, bucket: str, prefix: str) -> int:
        b = self.client().bucket(bucket)
        root = Path(local_dir)
        n = 0
        for p in sorted(root.rglob("*")):
            if p.is_file():
                b.blob(f"{prefix.strip('/')}/{p.relative_to(root).as_posix()}".lstrip("/")).upload_from_filename(str(p))
                n += 1
        return n

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        return sorted(b.name for b in self.client().list_blobs(bucket, prefix=prefix or None))

    def download(self, bucket: str, prefix: str, local_dir: str | os.PathLike) -> list[Path]:
        b = self.client().bucket(bucket)
        out = []
        for key in self.keys(bucket, prefix):
            dst = Path(local_dir) / key[len(prefix):].lstrip("/")
            dst.parent.mkdir(parents=True, exist_ok=True)
            b.blob(key).download_to_filename(str(dst))
            out.append(dst)
        return out


@contextmanager
def running_gcs_server() -> Iterator[GcsServer]:
    """Starts the emulator on a free port of 127.0.0.1 (in memory); stops it afterwards.

    The caller sets ``STORAGE_EMULATOR_HOST`` to ``server.endpoint`` for the code under test.
    """
    from gcp_storage_emulator.server import create_server

    server = create_server("127.0.0.1", 0, in_memory=True)
    server.start()
    try:
        port = server._api._httpd.server_address[1]  # the emulator has no accessor for a port-0 bind
        yield GcsServer(f"http://127.0.0.1:{port}")
    finally:
        server.stop()


_CHILD = """
import logging, sys
from gcp_storage_emulator.server import create_server
logging.disable(logging.WARNING)
server = create_server("127.0.0.1", 0, in_memory=True)
server.start()
print(server._api._httpd.server_address[1], flush=True)
sys.stdin.read()  # until the parent closes our stdin
server.stop()
"""


@contextmanager
def running_gcs_server_process(timeout: float = 30.0) -> Iterator[GcsServer]:
    """The emulator in a child process, for clients that block the interpreter while they wait.

    pyarrow's GCS file system (which pyiceberg uses) sends no ranged read, and waits forever, when
    the emulator is a thread of the same interpreter (the thread does not run while pyarrow waits);
    from another process it is answered at once.
    """
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", _CHILD], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        port = child.stdout.readline().strip()
        if not port.isdigit():
            raise RuntimeError(f"gcp-storage-emulator did not start (exit code {child.poll()})")
        yield GcsServer(f"http://127.0.0.1:{port}")
    finally:
        child.stdin.close()
        try:
            child.wait(timeout)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
