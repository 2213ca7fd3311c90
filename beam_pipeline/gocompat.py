"""The Go pipeline's (withObsrvr cdp-pipeline-workflow) names and keys, mapped onto this project's.

A team migrating keeps its configs: source adapters and their keys, processor names with their
filters, and the `pipelines:` file format are translated here, before the ordinary validation in
`config` runs on the result. Keys that mean nothing in a Beam job are accepted with a warning
that says so; keys whose meaning this job cannot honour are errors that say what to do instead.
docs/migrating.md lists every key. No Beam imports.
"""

from __future__ import annotations

from typing import Any

from beam_pipeline.filters import FILTER_KEYS, RowFilter, parse_filter

DATASTORE_ADAPTERS = {
    "datastore": None,
    "BufferedStorageSource": None,
    "BufferedStorageSourceAdapter": None,
    "GCSBufferedStorageSourceAdapter": "GCS",
    "FSBufferedStorageSourceAdapter": "FS",
    "S3BufferedStorageSourceAdapter": "S3",
}
RPC_ADAPTERS = ("rpc", "RPCSource", "RPCSourceAdapter", "SorobanSourceAdapter")
UNSUPPORTED_SOURCES = {
    "CaptiveCoreInboundAdapter": "this job reads ledgers exported by galexie (a SEP-54 data store: use "
                                 "BufferedStorageSourceAdapter) or a Stellar RPC server (RPCSourceAdapter), "
                                 "not a captive stellar-core",
}

# Keys of the Go sources that do nothing here: accepted, with a warning saying why.
SOURCE_KEYS_WITHOUT_EFFECT = {
    "max_idle_conns": "the object-store clients pool connections themselves",
    "max_open_conns": "the object-store clients pool connections themselves",
    "checkpoint_dir": "reruns resume from the archive's manifests, not from checkpoints",
    "checkpoint_interval": "reruns resume from the archive's manifests, not from checkpoints",
}

# Go processor name -> (our table, implied filter keys). Names that are our table names pass through.
PROCESSORS: dict[str, tuple[str, dict[str, Any]]] = {
    "LedgerReader": ("ledgers", {}),
    "LatestLedger": ("ledgers", {}),
    "TransformToAppTransaction": ("transactions", {}),
    "TransformToAppOperation": ("operations", {}),
    "ContractData": ("contract_data", {}),
    "ContractDataProcessor": ("contract_data", {}),
    "ContractFilter": ("contract_data", {}),
    "ContractEvents": ("contract_events", {}),
    "ContractEvent": ("contract_events", {}),
    "ContractEventProcessor": ("contract_events", {}),
    "StellarContractEvent": ("contract_events", {}),
    "PaymentProcessor": ("operations", {"operation_types": ["payment", "path_payment_strict_receive",
                                                            "path_payment_strict_send"]}),
    "TransformToAppPayment": ("operations", {"operation_types": ["payment", "path_payment_strict_receive",
                                                                 "path_payment_strict_send"]}),
    "FilterPayments": ("operations", {"operation_types": ["payment", "path_payment_strict_receive",
                                                          "path_payment_strict_send"]}),
    "TransformToAppTrade": ("trades", {}),
    "StellarEffects": ("effects", {}),
    "AccountEffect": ("effects", {}),
    "AccountData": ("accounts", {}),
    "AccountDataFilter": ("accounts", {}),
    "TransformToAppAccount": ("accounts", {}),
    "TransformToAppTrustline": ("trustlines", {}),
    "LedgerChanges": ("ledger_entry_changes", {}),
    "TransformToAssetStats": ("assets", {}),
}
# Processor config keys with no effect here (the batch sizes of the Go in-memory channels).
PROCESSOR_KEYS_WITHOUT_EFFECT = ("buffer_size", "name")


def normalize_source(kind: str, cfg: Any, path: str, problems: list[str], warnings: list[str]) -> tuple[str, Any]:
    """A Go source adapter's type and keys -> ("datastore" | "rpc", keys of our source configs)."""
    if not isinstance(cfg, dict):
        return ("rpc" if kind in RPC_ADAPTERS else "datastore"), cfg
    cfg = dict(cfg)
    for key, why in SOURCE_KEYS_WITHOUT_EFFECT.items():
        if key in cfg:
            cfg.pop(key)
            warnings.append(f"{path}.{key}: has no effect in this job ({why})")
    if kind in RPC_ADAPTERS:
        if "poll_interval_seconds" in cfg:
            cfg["poll_interval"] = cfg.pop("poll_interval_seconds")
        method = cfg.pop("rpc_method", "getLedgers")
        if method != "getLedgers":
            problems.append(f"{path}.rpc_method: only getLedgers is supported, got {method!r}")
        if cfg.get("poll_interval") == 0 and cfg.get("end_ledger") is not None:
            cfg.pop("poll_interval")  # the Go batch mode's "no delay": a bounded run does not poll
        return "rpc", cfg
    storage = DATASTORE_ADAPTERS[kind]
    given = cfg.pop("storage_type", None)
    if given is not None and storage is not None and given != storage:
        problems.append(f"{path}.storage_type: {given!r} contradicts the source type {kind}")
    storage = given or storage
    if cfg.pop("continuous_mode", False):
        problems.append(f"{path}.continuous_mode: a data-store source reads a fixed range; follow the chain with "
                        "an RPCSourceAdapter without end_ledger, or rerun with a later range")
    if "start_time_ago" in cfg:
        problems.append(f"{path}.start_time_ago: not supported; give start_time (RFC 3339) or start_ledger")
        cfg.pop("start_time_ago")
    if kind != "datastore" and "bucket_name" in cfg and "path" not in cfg:
        bucket = str(cfg.pop("bucket_name")).strip("/")
        prefix = str(cfg.pop("path_prefix", "")).strip("/")
        if storage == "FS":
            problems.append(f"{path}.bucket_name: storage_type FS reads a local directory: give path")
        else:
            scheme = "s3" if storage == "S3" or (storage is None and kind.startswith("S3")) else "gs"
            cfg["path"] = f"{scheme}://{bucket}" + (f"/{prefix}" if prefix else "")
    elif "path" in cfg:
        for key in ("bucket_name", "path_prefix"):
            if key in cfg:
                cfg.pop(key)
                warnings.append(f"{path}.{key}: has no effect with path given (storage_type "
                                f"{storage or 'from the path'})")
    if storage == "FS" and "path" in cfg and "://" in str(cfg["path"]):
        problems.append(f"{path}.path: storage_type FS takes a local directory, got {cfg['path']!r}")
    return "datastore", cfg


def parse_processors(
    procs: Any, available: tuple[str, ...] | list[str], problems: list[str], warnings: list[str]
) -> tuple[list[str], list[RowFilter]]:
    """Processor entries (our table names or the Go processors' names, with filter configs) -> (tables, filters)."""
    from beam_pipeline.records import get_table
    from beam_pipeline.records.base import output_schema

    processors: list[str] = []
    filters: list[RowFilter] = []
    if not isinstance(procs, list) or not procs:
        problems.append("pipeline.processors: expected a non-empty list of tables")
        return processors, filters
    for i, item in enumerate(procs):
        ppath = f"pipeline.processors[{i}]"
        if not isinstance(item, dict) or "type" not in item:
            problems.append(f"{ppath}: expected a mapping with a 'type' key")
            continue
        for k in sorted(set(item) - {"type", "config", "name"}):
            problems.append(f"{ppath}.{k}: unknown key (known: config, name, type)")
        kind = item["type"]
        table, implied = PROCESSORS.get(kind, (kind, {}))
        if table not in available:
            later = " (not available yet in this version)" if kind in PROCESSORS else ""
            problems.append(f"{ppath}.type: {kind!r}{later} is not one of {', '.join(available)} "
                            f"or {', '.join(PROCESSORS)}")
            continue
        if table in processors:
            problems.append(f"{ppath}.type: table {table!r} is listed twice")
            continue
        processors.append(table)
        config = item.get("config") or {}
        if not isinstance(config, dict):
            problems.append(f"{ppath}.config: expected a mapping")
            continue
        filter_keys = dict(implied)
        for key, value in config.items():
            if key in FILTER_KEYS:
                filter_keys[key] = value
            elif key in PROCESSOR_KEYS_WITHOUT_EFFECT:
                warnings.append(f"{ppath}.config.{key}: has no effect in this job (rows are batched per ledger "
                                "file by the decode step)")
            elif key == "network_passphrase":
                warnings.append(f"{ppath}.config.network_passphrase: has no effect here; the network is the "
                                "source's (network key, checked against the data store)")
            else:
                problems.append(f"{ppath}.config.{key}: unknown key (known: {', '.join(sorted(FILTER_KEYS))}, "
                                f"{', '.join(PROCESSOR_KEYS_WITHOUT_EFFECT)}, network_passphrase)")
        if filter_keys:
            schema = output_schema(get_table(table), "base64", False)
            f = parse_filter(table, schema, filter_keys, f"{ppath}.config", problems)
            if f is not None:
                filters.append(f)
    return processors, filters
