"""A real S3 endpoint on 127.0.0.1: moto's server app, plus a log of what each request carried.

Moto in server mode speaks the S3 REST API over HTTP, so Beam's boto3 client talks to it exactly
as to AWS or MinIO. The recorder wraps the WSGI app to keep, per request, the method, path and
whether an ``Authorization`` header was sent: that is how a test can prove anonymous reads were
unsigned (moto itself accepts any request).
"""

from __future__ import annotations

import os
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import boto3

FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing-key-id",
    "AWS_SECRET_ACCESS_KEY": "testing-secret",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # the URL path, e.g. /bucket/key (path-style)
    host: str
    signed: bool


@dataclass
class S3Server:
    endpoint: str
    requests: list[Request] = field(default_factory=list)

    def client(self, **kwargs):
        """A signed boto3 client for setting up and inspecting buckets."""
        return boto3.session.Session().client(
            "s3",
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            **kwargs,
        )

    def create_bucket(self, name: str, public_read: bool = False) -> None:
        c = self.client()
        c.create_bucket(Bucket=name)
        if public_read:
            c.put_bucket_acl(Bucket=name, ACL="public-read")

    def upload_tree(self, local_dir: str | os.PathLike, bucket: str, prefix: str) -> int:
        """Uploads every file under `local_dir` (dot files included) to s3://bucket/prefix/; returns the count."""
        c = self.client()
        n = 0
        root = Path(local_dir)
        for p in sorted(root.rglob("*")):
            if p.is_file():
                c.upload_file(str(p), bucket, f"{prefix.strip('/')}/{p.relative_to(root).as_posix()}".lstrip("/"))
                n += 1
        return n

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        c = self.client()
        out = []
        for page in c.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            out.extend(o["Key"] for o in page.get("Contents", []))
        return sorted(out)

    def download(self, bucket: str, prefix: str, local_dir: str | os.PathLike) -> list[Path]:
        c = self.client()
        out = []
        for key in self.keys(bucket, prefix):
            dst = Path(local_dir) / key[len(prefix):].lstrip("/")
            dst.parent.mkdir(parents=True, exist_ok=True)
            c.download_file(bucket, key, str(dst))
            out.append(dst)
        return out


class _Recorder:
    def __init__(self, app, log: list[Request]):
        self._app = app
        self._log = log
        self._lock = threading.Lock()

    def __call__(self, environ, start_response):
        req = Request(
            environ.get("REQUEST_METHOD", ""),
            environ.get("PATH_INFO", ""),
            environ.get("HTTP_HOST", ""),
            "HTTP_AUTHORIZATION" in environ or "X-Amz-Signature" in environ.get("QUERY_STRING", ""),
        )
        with self._lock:
            self._log.append(req)
        return self._app(environ, start_response)


@contextmanager
def running_s3_server(timeout: float = 10.0) -> Iterator[S3Server]:
    """Starts moto's S3 server on a free port of 127.0.0.1; stops it and resets moto's state after."""
    from moto.moto_server.threaded_moto_server import MotoRequestHandler
    from moto.server import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import make_server

    class QuietHandler(MotoRequestHandler):
        def log_request(self, *args, **kwargs) -> None:
            """Requests are in `S3Server.requests`; not printed."""

    log: list[Request] = []
    app = _Recorder(DomainDispatcherApplication(create_backend_app), log)
    httpd = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=httpd.serve_forever, name="moto-s3", daemon=True)
    thread.start()
    endpoint = f"http://127.0.0.1:{httpd.server_address[1]}"
    try:
        urllib.request.urlopen(endpoint + "/moto-api/", timeout=timeout).read()
        yield S3Server(endpoint, log)
    finally:
        try:
            urllib.request.urlopen(urllib.request.Request(endpoint + "/moto-api/reset", method="POST"), timeout=timeout)
        finally:
            httpd.shutdown()
            httpd.server_close()
            thread.join(timeout)
