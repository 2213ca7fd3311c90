"""``config_settings``: Soroban network configuration entry changes (stellar-etl ``config_settings``).

A config entry holds one setting (a union arm per ``config_setting_id``); stellar-etl flattens
every arm into one wide row and leaves the columns of other arms at zero/empty, and so do we.
Some columns are aliases kept for Hubble's history (e.g. ``ledger_max_read_ledger_entries`` and
``ledger_max_disk_read_entries`` both read ``ledgerMaxDiskReadEntries`` since protocol 23);
`_SCALARS` spells each mapping out as stellar-etl does. Cost parameters are a JSON string column
(a list of ``{"ConstTerm", "ExtV", "LinearTerm"}`` objects with string values, like stellar-etl).
"""

from __future__ import annotations

import pyarrow as pa
from stellar_sdk import xdr

from beam_pipeline.records.base import UTC_TS, Table, uint64_field, xdr_list_field
from beam_pipeline.records.changes._common import change_columns
from beam_pipeline.records.changes._extract import EntryChange, compacted_of_type
from beam_pipeline.util.scval import json_text
from beam_pipeline.xdr.ledger import LedgerView

# The settings' XDR types; every one is stored as int64 (docs/tables.md, Integer types).
_U32, _I64 = "uint32", "int64"
_WINDOW_BOUND = "sizes in bytes of the live Soroban state: 2^63 bytes is 8 EiB"
_COST = "contract_ledger_cost"
_ARCHIVAL = "state_archival_settings"
_TIMING = "contract_scp_timing"

# (column, type, ConfigSettingEntry arm, field of the arm or None when the arm is the number)
_SCALARS: list[tuple[str, str, str, str | None]] = [
    ("contract_max_size_bytes", _U32, "contract_max_size_bytes", None),
    ("ledger_max_instructions", _I64, "contract_compute", "ledger_max_instructions"),
    ("tx_max_instructions", _I64, "contract_compute", "tx_max_instructions"),
    ("fee_rate_per_instructions_increment", _I64, "contract_compute", "fee_rate_per_instructions_increment"),
    ("tx_memory_limit", _U32, "contract_compute", "tx_memory_limit"),
    ("ledger_max_read_ledger_entries", _U32, _COST, "ledger_max_disk_read_entries"),
    ("ledger_max_disk_read_entries", _U32, _COST, "ledger_max_disk_read_entries"),
    ("ledger_max_read_bytes", _U32, _COST, "ledger_max_disk_read_bytes"),
    ("ledger_max_disk_read_bytes", _U32, _COST, "ledger_max_disk_read_bytes"),
    ("ledger_max_write_ledger_entries", _U32, _COST, "ledger_max_write_ledger_entries"),
    ("ledger_max_write_bytes", _U32, _COST, "ledger_max_write_bytes"),
    ("tx_max_read_ledger_entries", _U32, _COST, "tx_max_disk_read_entries"),
    ("tx_max_disk_read_entries", _U32, _COST, "tx_max_disk_read_entries"),
    ("tx_max_read_bytes", _U32, _COST, "tx_max_disk_read_bytes"),
    ("tx_max_disk_read_bytes", _U32, _COST, "tx_max_disk_read_bytes"),
    ("tx_max_write_ledger_entries", _U32, _COST, "tx_max_write_ledger_entries"),
    ("tx_max_write_bytes", _U32, _COST, "tx_max_write_bytes"),
    ("fee_read_ledger_entry", _I64, _COST, "fee_disk_read_ledger_entry"),
    ("fee_disk_read_ledger_entry", _I64, _COST, "fee_disk_read_ledger_entry"),
    ("fee_write_ledger_entry", _I64, _COST, "fee_write_ledger_entry"),
    ("fee_read_1kb", _I64, _COST, "fee_disk_read1_kb"),
    ("fee_write_1kb", _I64, "contract_ledger_cost_ext", "fee_write1_kb"),
    ("fee_disk_read_1kb", _I64, _COST, "fee_disk_read1_kb"),
    ("bucket_list_target_size_bytes", _I64, _COST, "soroban_state_target_size_bytes"),
    ("soroban_state_target_size_bytes", _I64, _COST, "soroban_state_target_size_bytes"),
    ("write_fee_1kb_bucket_list_low", _I64, _COST, "rent_fee1_kb_soroban_state_size_low"),
    ("rent_fee_1kb_soroban_state_size_low", _I64, _COST, "rent_fee1_kb_soroban_state_size_low"),
    ("write_fee_1kb_bucket_list_high", _I64, _COST, "rent_fee1_kb_soroban_state_size_high"),
    ("rent_fee_1kb_soroban_state_size_high", _I64, _COST, "rent_fee1_kb_soroban_state_size_high"),
    ("bucket_list_write_fee_growth_factor", _U32, _COST, "soroban_state_rent_fee_growth_factor"),
    ("soroban_state_rent_fee_growth_factor", _U32, _COST, "soroban_state_rent_fee_growth_factor"),
    ("fee_historical_1kb", _I64, "contract_historical_data", "fee_historical1_kb"),
    ("tx_max_contract_events_size_bytes", _U32, "contract_events", "tx_max_contract_events_size_bytes"),
    ("fee_contract_events_1kb", _I64, "contract_events", "fee_contract_events1_kb"),
    ("ledger_max_txs_size_bytes", _U32, "contract_bandwidth", "ledger_max_txs_size_bytes"),
    ("tx_max_size_bytes", _U32, "contract_bandwidth", "tx_max_size_bytes"),
    ("fee_tx_size_1kb", _I64, "contract_bandwidth", "fee_tx_size1_kb"),
]
_SCALARS_2: list[tuple[str, str, str, str | None]] = [
    ("contract_data_key_size_bytes", _U32, "contract_data_key_size_bytes", None),
    ("contract_data_entry_size_bytes", _U32, "contract_data_entry_size_bytes", None),
    ("max_entry_ttl", _U32, _ARCHIVAL, "max_entry_ttl"),
    ("min_temporary_ttl", _U32, _ARCHIVAL, "min_temporary_ttl"),
    ("min_persistent_ttl", _U32, _ARCHIVAL, "min_persistent_ttl"),
    ("auto_bump_ledgers", _U32, "", None),  # a retired setting stellar-etl still emits as 0
    ("persistent_rent_rate_denominator", _I64, _ARCHIVAL, "persistent_rent_rate_denominator"),
    ("temp_rent_rate_denominator", _I64, _ARCHIVAL, "temp_rent_rate_denominator"),
    ("max_entries_to_archive", _U32, _ARCHIVAL, "max_entries_to_archive"),
    ("bucket_list_size_window_sample_size", _U32, _ARCHIVAL, "live_soroban_state_size_window_sample_size"),
    ("live_soroban_state_size_window_sample_size", _U32, _ARCHIVAL, "live_soroban_state_size_window_sample_size"),
    ("live_soroban_state_size_window_sample_period", _U32, _ARCHIVAL, "live_soroban_state_size_window_sample_period"),
    ("eviction_scan_size", _U32, _ARCHIVAL, "eviction_scan_size"),  # stellar-etl's Go struct: uint64
    ("starting_eviction_scan_level", _U32, _ARCHIVAL, "starting_eviction_scan_level"),
    ("ledger_max_tx_count", _U32, "contract_execution_lanes", "ledger_max_tx_count"),
]
_SCALARS_3: list[tuple[str, str, str, str | None]] = [
    ("ledger_max_dependent_tx_clusters", _U32, "contract_parallel_compute", "ledger_max_dependent_tx_clusters"),
    ("tx_max_footprint_entries", _U32, "contract_ledger_cost_ext", "tx_max_footprint_entries"),
    ("ledger_target_close_time_milliseconds", _U32, _TIMING, "ledger_target_close_time_milliseconds"),
    ("nomination_timeout_initial_milliseconds", _U32, _TIMING, "nomination_timeout_initial_milliseconds"),
    ("nomination_timeout_increment_milliseconds", _U32, _TIMING, "nomination_timeout_increment_milliseconds"),
    ("ballot_timeout_initial_milliseconds", _U32, _TIMING, "ballot_timeout_initial_milliseconds"),
    ("ballot_timeout_increment_milliseconds", _U32, _TIMING, "ballot_timeout_increment_milliseconds"),
]
_FROZEN_KEYS = [
    ("frozen_ledger_keys", "frozen_ledger_keys", "keys"),
    ("frozen_ledger_keys_to_freeze", "frozen_ledger_keys_delta", "keys_to_freeze"),
    ("frozen_ledger_keys_to_unfreeze", "frozen_ledger_keys_delta", "keys_to_unfreeze"),
]
_BYPASS_TXS = [
    ("freeze_bypass_txs", "freeze_bypass_txs", "tx_hashes"),
    ("freeze_bypass_txs_to_add", "freeze_bypass_txs_delta", "add_txs"),
    ("freeze_bypass_txs_to_remove", "freeze_bypass_txs_delta", "remove_txs"),
]


def _scalar_fields(specs) -> list[pa.Field]:
    return [pa.field(name, pa.int64(), nullable=False) for name, _, _, _ in specs]


SCHEMA = pa.schema(
    [
        pa.field("config_setting_id", pa.int64(), nullable=False),
        *_scalar_fields(_SCALARS),
        pa.field("contract_cost_params_cpu_insns", pa.string(), nullable=False),
        pa.field("contract_cost_params_mem_bytes", pa.string(), nullable=False),
        *_scalar_fields(_SCALARS_2),
        uint64_field("bucket_list_size_window", _WINDOW_BOUND, nullable=False, repeated=True),
        uint64_field("live_soroban_state_size_window", _WINDOW_BOUND, nullable=False, repeated=True),
        *_scalar_fields(_SCALARS_3),
        *[xdr_list_field(name) for name, _, _ in _FROZEN_KEYS],
        *[pa.field(name, pa.list_(pa.string()), nullable=False) for name, _, _ in _BYPASS_TXS],
        pa.field("last_modified_ledger", pa.int64(), nullable=False),
        pa.field("ledger_entry_change", pa.int64(), nullable=False),
        pa.field("deleted", pa.bool_(), nullable=False),
        pa.field("closed_at", UTC_TS, nullable=False),
        pa.field("ledger_sequence", pa.int64(), nullable=False),
    ]
)


def _number(value) -> int:
    """The int inside an XDR number wrapper (Uint32, Int64, ...)."""
    if isinstance(value, int):
        return value
    (inner,) = vars(value).values()
    return inner


def _arm(cs: xdr.ConfigSettingEntry, arm: str):
    """The union arm's value if `cs` holds that arm, else None (Go's ``GetX`` returning !ok)."""
    return getattr(cs, arm, None) if arm else None


def _cost_params(params: xdr.ContractCostParams | None) -> str:
    entries = [] if params is None else params.contract_cost_params
    return json_text(
        [
            {"ExtV": str(p.ext.v), "ConstTerm": str(p.const_term.int64), "LinearTerm": str(p.linear_term.int64)}
            for p in entries
        ]
    )


def _encoded_keys(keys, column: str, sequence: int) -> list[bytes]:
    """Encoded ledger keys, each checked to be the canonical XDR of a LedgerKey (stellar-etl decodes and
    re-encodes them). It must decode whole and re-encode to the same bytes: stellar_sdk's decoder is lenient
    (padding, booleans) where the native core's is strict, and canonical bytes pass both alike."""
    out = []
    for i, key in enumerate(keys):
        data = key.encoded_ledger_key
        try:
            canonical = xdr.LedgerKey.from_xdr_bytes(data).to_xdr_bytes()
        except Exception:  # the XDR library raises several types for malformed input
            canonical = None
        if canonical != data:
            raise ValueError(f"ledger {sequence}: {column} key {i} is not the canonical XDR of a LedgerKey")
        out.append(data)
    return out


def change_row(change: EntryChange, ledger: LedgerView) -> dict:
    cs = change.entry.data.config_setting
    row: dict = {"config_setting_id": cs.config_setting_id.value}
    for name, _, arm, field in (*_SCALARS, *_SCALARS_2, *_SCALARS_3):
        value = _arm(cs, arm)
        if value is not None and field is not None:
            value = getattr(value, field)
        row[name] = 0 if value is None else _number(value)
    row["contract_cost_params_cpu_insns"] = _cost_params(cs.contract_cost_params_cpu_insns)
    row["contract_cost_params_mem_bytes"] = _cost_params(cs.contract_cost_params_mem_bytes)
    window = [w.uint64 for w in cs.live_soroban_state_size_window or []]
    row["bucket_list_size_window"] = window
    row["live_soroban_state_size_window"] = list(window)
    for name, arm, field in _FROZEN_KEYS:
        value = _arm(cs, arm)
        row[name] = [] if value is None else _encoded_keys(getattr(value, field), name, ledger.sequence)
    for name, arm, field in _BYPASS_TXS:
        value = _arm(cs, arm)
        row[name] = [] if value is None else [h.hash.hex() for h in getattr(value, field)]
    row.update(change_columns(change, ledger))
    return row


def transform(ledger: LedgerView) -> list[dict]:
    """One row per config setting changed in the ledger (compacted), e.g. by a network upgrade."""
    return [change_row(c, ledger) for c in compacted_of_type(ledger, xdr.LedgerEntryType.CONFIG_SETTING)]


TABLE = Table(
    name="config_settings",
    schema=SCHEMA,
    version=2,
    transform=transform,
    description="Soroban config setting entry changes per ledger (stellar-etl config_settings).",
)
