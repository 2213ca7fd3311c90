"""Real PostgreSQL and Redis servers for the consumer tests, on free ports of 127.0.0.1.

The Debian packages (`postgresql`, `redis-server`) are installed by `.ci/run`. PostgreSQL
refuses to run as root, so when the tests run as root (CI) initdb and pg_ctl run as the
`postgres` user (runuser), with the data directory in a temporary directory it owns.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}")) or [shutil.which(name) or ""]
    if not found[-1]:
        pytest.fail(f"PostgreSQL's {name} not found: install the Debian package postgresql (.ci/run does)")
    return found[-1]


def _as_postgres(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


@contextmanager
def postgres_server() -> Iterator[str]:
    """A fresh PostgreSQL cluster; yields its connection string (user postgres, database postgres).

    Roles other than postgres log in with their password (scram-sha-256).
    """
    tmp = tempfile.mkdtemp(prefix="pg-test-")
    data = os.path.join(tmp, "data")
    if os.geteuid() == 0:
        shutil.chown(tmp, "postgres", "postgres")
    port = free_port()
    subprocess.run(_as_postgres([_pg_bin("initdb"), "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8"]),
                   check=True, capture_output=True)
    # The superuser needs no password; every other role does (tests create roles to log in with a
    # wrong password or without a permission).
    with open(os.path.join(data, "pg_hba.conf"), "w") as hba:
        hba.write("local all all trust\n"
                  "host all postgres 127.0.0.1/32 trust\n"
                  "host all all 127.0.0.1/32 scram-sha-256\n")
    log = os.path.join(tmp, "server.log")
    subprocess.run(_as_postgres([_pg_bin("pg_ctl"), "-D", data, "-l", log, "-w", "-t", "60", "-o",
                                 f"-p {port} -h 127.0.0.1 -k {tmp}", "start"]), check=True, capture_output=True)
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(_as_postgres([_pg_bin("pg_ctl"), "-D", data, "-m", "immediate", "stop"]), capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)


@contextmanager
def redis_server() -> Iterator[str]:
    """A redis-server without persistence; yields its address as host:port (the Go configs' form)."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server not found: install the Debian package redis-server (.ci/run does)")
    port = free_port()
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    pytest.fail("redis-server did not start")
                time.sleep(0.1)
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=30)
