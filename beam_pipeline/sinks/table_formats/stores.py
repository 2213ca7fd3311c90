"""How delta-rs and pyiceberg reach the archive's bucket: the settings Beam's filesystems already use.

Beam reads and writes the archive through its own clients (boto3 for S3, google-cloud-storage for
GCS), configured by the job: the sink's ``endpoint``/``region``, Beam's ``--s3_*`` flags (endpoint,
region, access key, ``--s3_disable_ssl``), per-bucket settings (`util.storage`), the standard AWS
chain, Google's Application Default Credentials, and ``STORAGE_EMULATOR_HOST`` for a GCS emulator.
The table-format libraries have clients of their own (delta-rs: Rust's ``object_store``; pyiceberg:
pyarrow's S3 and GCS file systems) that know none of that, so this module translates it, in one
place, into delta-rs' ``storage_options`` and pyiceberg's FileIO properties. A setting the job does
not make is left out, so each library falls back to the same standard chain Beam's clients use
(``AWS_*`` variables, ``~/.aws`` profiles, instance roles; ADC for GCS).

Credentials taken from Beam's flags are registered with `util.secrets`, so that no log line or
error message quotes them; the returned dicts hold them and must never be logged.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from beam_pipeline.util import storage
from beam_pipeline.util.secrets import register as register_secrets
from beam_pipeline.util.secrets import url_secrets

# botocore signs S3 requests for us-east-1 when no region is configured; delta-rs does the same, but
# pyiceberg would ask AWS for the bucket's region, which a custom endpoint's bucket does not have.
DEFAULT_S3_REGION = "us-east-1"
EMULATOR_TOKEN = "emulator"  # a GCS emulator takes any bearer token
EMULATOR_TOKEN_EXPIRES_MS = 4102444800000  # 2100-01-01: pyarrow wants an expiry with a token


@dataclass(frozen=True)
class StoreAccess:
    """How one archive URL's store is reached; credentials only when the job's settings carry them."""

    scheme: str  # "" (local), "s3" or "gs"
    endpoint: str | None = None  # S3: a custom endpoint (MinIO, moto, R2 ...); GCS: the emulator's URL
    region: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = None
    session_token: str | None = None
    anonymous: bool = False  # unsigned S3 requests (a public bucket)
    allow_http: bool = False

    def __repr__(self) -> str:  # never the credentials, whatever prints this
        return f"StoreAccess({self.scheme}, endpoint={self.endpoint!r}, region={self.region!r})"


def _s3_region(explicit: str | None, endpoint: str | None) -> str | None:
    """The region boto3 would sign with: the job's, else the AWS chain's (env, profile), else S3's default
    for a custom endpoint; None for AWS itself without one (each library then finds the bucket's region)."""
    if explicit:
        return explicit
    import boto3

    return boto3.session.Session().region_name or (DEFAULT_S3_REGION if endpoint else None)


def access(url: str) -> StoreAccess:
    """How Beam's filesystems reach `url` (a table directory or the archive root), in the current process."""
    scheme = storage.scheme_of(url)
    if scheme == "s3":
        settings, client = storage.s3_access(storage.split_bucket(url)[0])
        endpoint = settings.endpoint_url or client.get("endpoint_url")
        creds = {} if settings.anonymous else {
            k: client.get(f"aws_{k}") for k in ("access_key_id", "secret_access_key", "session_token")}
        register_secrets(url_secrets(endpoint))
        register_secrets(v for v in creds.values() if v)
        return StoreAccess(
            scheme, endpoint=endpoint, region=_s3_region(settings.region or client.get("region_name"), endpoint),
            anonymous=settings.anonymous,
            allow_http=bool(endpoint and endpoint.lower().startswith("http://")) or client.get("use_ssl") is False,
            **creds,
        )
    if scheme == "gs":
        emulator = storage.emulator_host()
        return StoreAccess(scheme, endpoint=emulator, allow_http=bool(emulator))
    return StoreAccess(scheme)


def delta_storage_options(url: str) -> dict[str, str]:
    """delta-rs' ``storage_options`` for a table at `url` (``{}`` for local tables and default chains)."""
    a = access(url)
    if a.scheme == "s3":
        opts = {
            "aws_endpoint": a.endpoint,
            "aws_region": a.region,
            "aws_access_key_id": a.access_key_id,
            "aws_secret_access_key": a.secret_access_key,
            "aws_session_token": a.session_token,
            "aws_allow_http": "true" if a.allow_http else None,
            "aws_skip_signature": "true" if a.anonymous else None,
        }
        return {k: v for k, v in opts.items() if v}
    if a.scheme == "gs" and a.endpoint:
        # object_store takes an emulator's URL only from a service-account key (`gcs_base_url`); the
        # emulator wants no token, so none is fetched (`disable_oauth`): the key holds nothing secret.
        key = {"gcs_base_url": a.endpoint, "disable_oauth": True, "client_email": "", "private_key": "",
               "private_key_id": ""}
        return {"google_service_account_key": json.dumps(key)}
    return {}


def iceberg_properties(url: str) -> dict[str, str]:
    """pyiceberg FileIO properties for an archive at `url` (``{}`` for local archives and default chains)."""
    a = access(url)
    if a.scheme == "s3":
        props = {
            "s3.endpoint": a.endpoint,
            "s3.region": a.region,
            "s3.access-key-id": a.access_key_id,
            "s3.secret-access-key": a.secret_access_key,
            "s3.session-token": a.session_token,
            "s3.anonymous": "true" if a.anonymous else None,
        }
        return {k: v for k, v in props.items() if v}
    if a.scheme == "gs" and a.endpoint:
        # pyiceberg cannot ask pyarrow for anonymous GCS access, and pyarrow would otherwise look for
        # Google credentials an emulator does not check: a placeholder token (no secret) stands in.
        return {"gcs.service.host": a.endpoint, "gcs.oauth2.token": EMULATOR_TOKEN,
                "gcs.oauth2.token-expires-at": str(EMULATOR_TOKEN_EXPIRES_MS)}
    return {}
