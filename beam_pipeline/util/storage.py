"""Scheme-specific storage setup, resolved in one registry by URL scheme (``""`` local, ``gs``, ``s3``).

Beam's FileSystems already read and write all three stores; what they cannot express is
per-bucket S3 settings and a quick start against a GCS emulator. This module adds exactly that,
in the spirit of pyiceberg's io layer: `handler_for(url)` picks the scheme's handler, whose
`prepare()` runs once per process (launcher and every worker, since `util.fs` calls it).

S3 (``S3Storage``). Beam builds one boto3 client from ``S3Options`` (one endpoint, one region,
always signed). A job may read a public lake anonymously and write to MinIO with credentials, so
the config's per-bucket settings (``endpoint``, ``region``, ``force_path_style``, ``anonymous``)
travel to workers as the pipeline option ``--s3_bucket_settings`` (JSON, no secrets) and a small
subclass of Beam's boto3 client routes each request to a client built for its bucket. Buckets
without settings use Beam's client unchanged; credentials come from the standard AWS chain (env,
profile, instance role) or Beam's ``--s3_access_key_id`` flags, never from the config.

GCS (``GcsStorage``). Beam 2.77 builds its GCS client in ``gcsio.create_storage_client``: it asks
``apache_beam.internal.gcp.auth`` for Application Default Credentials, which on a machine without
any retries ``google.auth.default()`` with exponential backoff (~20 s) before connecting
anonymously. Only when ``STORAGE_EMULATOR_HOST`` is set (a local emulator, which takes no
credentials) do we answer that lookup up front with "anonymous", so Beam's own code then calls
``storage.Client.create_anonymous_client()``, which honours the emulator host. Without the variable
nothing changes: production resolves ADC / ``GOOGLE_APPLICATION_CREDENTIALS`` exactly as Beam does.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from dataclasses import asdict, dataclass
from typing import Any

from apache_beam.options.pipeline_options import PipelineOptions, S3Options

from beam_pipeline.util.secrets import register as register_secrets
from beam_pipeline.util.secrets import url_secrets

log = logging.getLogger(__name__)

EMULATOR_ENV = "STORAGE_EMULATOR_HOST"
AWS_CREDENTIAL_ENV = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")


class StorageConfigError(ValueError):
    """Storage settings that cannot work together; the message names the config key."""


class StorageOptions(PipelineOptions):
    """Pipeline options carrying per-bucket storage settings to workers (never credentials)."""

    @classmethod
    def _add_argparse_args(cls, parser):
        parser.add_argument(
            "--s3_bucket_settings",
            dest="s3_bucket_settings",
            default=None,
            help="JSON {bucket: {endpoint_url, region, path_style, anonymous}}; set from the job config.",
        )


def scheme_of(url: str) -> str:
    """``gs``, ``s3`` or ``""`` (a local path)."""
    return url.split("://", 1)[0].lower() if "://" in url else ""


def split_bucket(url: str) -> tuple[str, str]:
    """``s3://bucket/a/b`` -> (``bucket``, ``a/b``)."""
    rest = url.split("://", 1)[1]
    bucket, _, key = rest.partition("/")
    return bucket, key


# --- S3 ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class S3BucketSettings:
    """How to reach one bucket; plain data, safe to log and to ship to workers."""

    endpoint_url: str | None = None
    region: str | None = None
    path_style: bool = False
    anonymous: bool = False


def _load_bucket_settings(options: Any) -> dict[str, S3BucketSettings]:
    if isinstance(options, PipelineOptions):
        raw = options.view_as(StorageOptions).s3_bucket_settings
    elif isinstance(options, dict):
        raw = options.get("s3_bucket_settings")
    else:
        raw = None
    if not raw:
        return {}
    return {bucket: S3BucketSettings(**s) for bucket, s in json.loads(raw).items()}


def _client_kwargs(options: Any) -> dict[str, Any]:
    """The boto3 client arguments Beam itself would use (its S3Options)."""
    if isinstance(options, PipelineOptions):
        s3 = options.view_as(S3Options)
        get = lambda name: getattr(s3, name)  # noqa: E731 - two accessors for one shape
    else:
        get = lambda name: (options or {}).get(name)  # noqa: E731
    return {
        "region_name": get("s3_region_name"),
        "api_version": get("s3_api_version"),
        "use_ssl": not get("s3_disable_ssl"),
        "verify": get("s3_verify"),
        "endpoint_url": get("s3_endpoint_url"),
        "aws_access_key_id": get("s3_access_key_id"),
        "aws_secret_access_key": get("s3_secret_access_key"),
        "aws_session_token": get("s3_session_token"),
    }


def make_s3_client(settings: S3BucketSettings, base: dict[str, Any]):
    """A boto3 S3 client for one bucket: its endpoint/region, path-style, unsigned if anonymous."""
    import boto3
    from botocore import UNSIGNED
    from botocore.config import Config

    kwargs = dict(base)
    register_secrets(url_secrets(settings.endpoint_url))  # botocore quotes the endpoint in errors and logs
    register_secrets(v for k, v in kwargs.items() if k.startswith("aws_"))
    if settings.endpoint_url:
        kwargs["endpoint_url"] = settings.endpoint_url
    if settings.region:
        kwargs["region_name"] = settings.region
    config: dict[str, Any] = {}
    if settings.path_style:
        config["s3"] = {"addressing_style": "path"}
    if settings.anonymous:
        # Unsigned requests: no credentials are looked up or sent (public data sets).
        config["signature_version"] = UNSIGNED
        for k in ("aws_access_key_id", "aws_secret_access_key", "aws_session_token"):
            kwargs.pop(k, None)
    return boto3.session.Session().client("s3", config=Config(**config), **kwargs)


def s3_access(bucket: str, options: Any = None) -> tuple[S3BucketSettings, dict[str, Any]]:
    """How Beam's S3 filesystem reaches `bucket`: the bucket's settings and Beam's client arguments.

    The two halves `make_s3_client` combines (bucket settings win), for other clients of the same
    bucket (delta-rs and pyiceberg through `sinks.table_formats.stores`), so they reach it the same
    way. `options` defaults to the process's FileSystems options (the launcher's, or a worker's).
    The client arguments may hold credentials: never log them.
    """
    if options is None:
        options = _pipeline_options()
    return _load_bucket_settings(options).get(bucket) or S3BucketSettings(), _client_kwargs(options)


_client_cache: dict[tuple, Any] = {}
_client_cache_lock = threading.Lock()


def _cached_s3_client(settings: S3BucketSettings, base: dict[str, Any]):
    """One boto3 client per (bucket settings, Beam options) per process.

    Beam makes a new boto3 session and client for every FileSystems call (~0.1 s each, most of
    an S3 job's overhead); boto3 clients are thread-safe, so sharing them is safe and much faster.
    The key holds whatever Beam's options hold; it stays in memory and is never logged.
    """
    key = (settings, tuple(sorted(base.items())))
    with _client_cache_lock:
        client = _client_cache.get(key)
        if client is None:
            client = _client_cache[key] = make_s3_client(settings, base)
    return client


class _BucketRouter:
    """Looks like a boto3 S3 client; sends each call to the client made for its bucket."""

    def __init__(self, settings: dict[str, S3BucketSettings], base: dict[str, Any]):
        self._settings = settings
        self._base = base

    def client_for(self, bucket: str | None):
        """The bucket's own client, or one configured like Beam's for buckets without settings."""
        return _cached_s3_client(self._settings.get(bucket) or S3BucketSettings(), self._base)

    def __getattr__(self, name: str):
        attr = getattr(self.client_for(None), name)
        if not callable(attr):
            return attr

        def call(*args, **kwargs):
            # Beam's client passes Bucket= for every call but copy(CopySource, Bucket, Key).
            bucket = kwargs.get("Bucket")
            if bucket is None and name == "copy" and len(args) >= 2:
                bucket = args[1]
            return getattr(self.client_for(bucket), name)(*args, **kwargs)

        return call


_S3_ROUTING_INSTALLED = False


def _install_s3_routing() -> None:
    """Makes Beam's S3 filesystem build a bucket-routing client (Beam's own when there are no settings)."""
    global _S3_ROUTING_INSTALLED
    if _S3_ROUTING_INSTALLED:
        return
    from apache_beam.io.aws.clients.s3 import boto3_client

    base_cls = boto3_client.Client

    class RoutingClient(base_cls):
        """Beam's boto3 client, with per-bucket clients for the buckets the job config names."""

        def __init__(self, options):
            settings = _load_bucket_settings(options)
            if not settings:
                super().__init__(options)
                return
            # The state Beam's __init__ sets, minus the per-call boto3 session it would build.
            self.client = _BucketRouter(settings, _client_kwargs(options))
            self._download_request = None
            self._download_stream = None
            self._download_pos = 0

    boto3_client.Client = RoutingClient
    _S3_ROUTING_INSTALLED = True


def s3_settings_for_config(cfg, options: PipelineOptions | None = None) -> dict[str, S3BucketSettings]:
    """The S3 buckets a job config names (source path, sink bucket) and how to reach each.

    An endpoint or region missing from the config falls back to Beam's ``--s3_endpoint_url`` /
    ``--s3_region_name`` flags, so flags keep working for buckets the config leaves unspecified.
    """
    s3 = options.view_as(S3Options) if options is not None else None
    flag_endpoint = s3.s3_endpoint_url if s3 else None
    flag_region = s3.s3_region_name if s3 else None
    found: dict[str, tuple[str, S3BucketSettings]] = {}

    def add(bucket: str, key: str, s: S3BucketSettings):
        if bucket in found and found[bucket][1] != s:
            other = found[bucket][0]
            raise StorageConfigError(
                f"{key}: bucket {bucket!r} is also used by {other} with different settings "
                f"({asdict(found[bucket][1])} vs {asdict(s)})"
            )
        found[bucket] = (key, s)

    src = cfg.source
    path = getattr(src, "path", None)
    if path and scheme_of(path) == "s3":
        add(
            split_bucket(path)[0],
            "pipeline.source.config.path",
            S3BucketSettings(
                endpoint_url=src.endpoint or flag_endpoint,
                region=src.region or flag_region,
                path_style=bool(src.force_path_style),
                anonymous=bool(src.anonymous),
            ),
        )
    elif path and scheme_of(path) == "gs" and getattr(src, "anonymous", False):
        raise StorageConfigError(
            "pipeline.source.config.anonymous: anonymous reads are implemented for s3:// data stores; "
            "for a public gs:// bucket use any Google credentials (or none: Beam then connects anonymously)"
        )
    sink = cfg.sink
    if sink.storage_type == "S3":
        add(
            sink.bucket_name,
            "pipeline.consumers[0].config.bucket_name",
            S3BucketSettings(endpoint_url=sink.endpoint or flag_endpoint, region=sink.region or flag_region),
        )
    return {bucket: s for bucket, (_, s) in found.items()}


def apply_options(cfg, options: PipelineOptions) -> dict[str, S3BucketSettings]:
    """Puts the config's storage settings into `options` (explicit Beam flags win) and prepares schemes.

    Returns the per-bucket S3 settings (for logging; they hold no secrets).
    """
    settings = s3_settings_for_config(cfg, options)
    if settings:
        options.view_as(StorageOptions).s3_bucket_settings = json.dumps(
            {b: asdict(s) for b, s in sorted(settings.items())}, sort_keys=True
        )
        # Beam's own client (buckets the config does not name) keeps the single setting, if unambiguous.
        s3 = options.view_as(S3Options)
        endpoints = {s.endpoint_url for s in settings.values()}
        regions = {s.region for s in settings.values()}
        if not s3.s3_endpoint_url and len(endpoints) == 1:
            s3.s3_endpoint_url = endpoints.pop()
        if not s3.s3_region_name and len(regions) == 1:
            s3.s3_region_name = regions.pop()
    for url in _urls(cfg):
        prepare(url)
    return settings


def _urls(cfg) -> list[str]:
    urls = [cfg.sink.root]
    path = getattr(cfg.source, "path", None)
    if path:
        urls.append(path)
    return urls


# --- GCS ---------------------------------------------------------------------------------------

_gcs_lock = threading.Lock()
_gcs_anonymous_seeded = False


def _sync_gcs_emulator_credentials() -> None:
    """With STORAGE_EMULATOR_HOST set, tells Beam's credential cache "anonymous" (once, up front).

    Beam caches its ADC lookup process-wide in ``auth._Credentials``; answering it ourselves skips
    the ~20 s of retried ``google.auth.default()`` calls an emulator does not need. If the variable
    goes away again (tests), a cache we filled is cleared so real credentials are looked up.
    """
    global _gcs_anonymous_seeded
    from apache_beam.internal.gcp import auth

    emulator = bool(os.environ.get(EMULATOR_ENV))
    creds = auth._Credentials
    with _gcs_lock, creds._credentials_lock:
        if emulator and not creds._credentials_init:
            creds._credentials = None
            creds._credentials_init = True
            _gcs_anonymous_seeded = True
            log.debug("GCS emulator at %s: connecting anonymously", os.environ[EMULATOR_ENV])
        elif not emulator and _gcs_anonymous_seeded:
            creds._credentials = None
            creds._credentials_init = False
            _gcs_anonymous_seeded = False


def emulator_host() -> str | None:
    """The GCS emulator's URL from ``STORAGE_EMULATOR_HOST`` (``http://`` added to a bare host:port), if set."""
    host = os.environ.get(EMULATOR_ENV)
    if not host:
        return None
    return host if "://" in host else f"http://{host}"


# --- listing one level (object stores have no directories; Beam's match lists recursively) -----


def _pipeline_options() -> PipelineOptions:
    from apache_beam.io.filesystems import FileSystems

    return FileSystems._pipeline_options or PipelineOptions()


def _list_local(url: str) -> list[str]:
    return sorted(n + "/" if os.path.isdir(os.path.join(url, n)) else n for n in os.listdir(url))


def _list_gcs(url: str) -> list[str]:
    from apache_beam.io.gcp import gcsio

    bucket, key = split_bucket(url)
    prefix = key.rstrip("/") + "/" if key.strip("/") else ""
    client = gcsio.create_storage_client(_pipeline_options())
    blobs = client.list_blobs(bucket, prefix=prefix or None, delimiter="/")
    names = [b.name[len(prefix):] for b in blobs]  # iterating fills .prefixes page by page
    names += [p[len(prefix):] for p in blobs.prefixes]
    return sorted(n for n in names if n)


def _list_s3(url: str) -> list[str]:
    options = _pipeline_options()
    bucket, key = split_bucket(url)
    prefix = key.rstrip("/") + "/" if key.strip("/") else ""
    settings = _load_bucket_settings(options).get(bucket) or S3BucketSettings()
    client = _cached_s3_client(settings, _client_kwargs(options))
    names: list[str] = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix, Delimiter="/"):
        names += [o["Key"][len(prefix):] for o in page.get("Contents", [])]
        names += [p["Prefix"][len(prefix):] for p in page.get("CommonPrefixes", [])]
    return sorted(n for n in names if n)


def list_dir(url: str) -> list[str]:
    """Names directly below `url` (a "directory" of a local path or bucket prefix); sub-directories end in /.

    One delimited listing per page instead of Beam's recursive match, so a data store's partitions
    can be found without listing millions of objects.
    """
    handler = handler_for(url)
    handler.prepare()
    return handler.list_dir(url.rstrip("/"))


# --- the registry ------------------------------------------------------------------------------


class LocalStorage:
    scheme = ""

    def prepare(self) -> None:
        """Local paths need no setup."""

    list_dir = staticmethod(_list_local)


class GcsStorage:
    scheme = "gs"

    def prepare(self) -> None:
        _sync_gcs_emulator_credentials()

    list_dir = staticmethod(_list_gcs)


class S3Storage:
    scheme = "s3"

    def prepare(self) -> None:
        # botocore's debug log quotes the access key id (and the endpoint); the values stay redacted.
        register_secrets(os.environ.get(name) for name in AWS_CREDENTIAL_ENV)
        _install_s3_routing()

    list_dir = staticmethod(_list_s3)


_HANDLERS = {h.scheme: h() for h in (LocalStorage, GcsStorage, S3Storage)}


def handler_for(url: str):
    """The storage handler for `url`'s scheme; an unknown scheme is an error naming the URL."""
    scheme = scheme_of(url)
    try:
        return _HANDLERS[scheme]
    except KeyError:
        raise StorageConfigError(
            f"{url}: unsupported URL scheme {scheme!r} (use a local path, gs:// or s3://)"
        ) from None


def prepare(url: str) -> None:
    """Runs the scheme's setup for `url` (cheap and idempotent; called before every FileSystems use)."""
    handler_for(url).prepare()
