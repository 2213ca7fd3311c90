"""Row filters on Arrow batches: each criterion keeps exactly the rows it names (pyarrow.compute)."""

from __future__ import annotations

import pyarrow as pa

from beam_pipeline.filters import RowFilter, parse_filter
from beam_pipeline.records import get_table
from beam_pipeline.records.base import output_schema

A, B = "C" + "A" * 55, "C" + "B" * 55
G1, G2 = "G" + "1" * 55, "G" + "2" * 55


def test_criteria_and_their_combination():
    events = pa.record_batch({
        "contract_id": [A, A, B, None],
        "topics_decoded": ['[{"symbol":"transfer"},{"address":"G"}]', '[{"symbol":"mint"}]',
                           '[{"symbol":"transfer"}]', '[{"u32":1}]'],
    })
    assert RowFilter("contract_events", contract_ids=(A,)).mask(events).to_pylist() == [True, True, False, False]
    kept = RowFilter("contract_events", event_types=("transfer", "burn")).apply(events)
    assert kept.column("contract_id").to_pylist() == [A, B]
    both = RowFilter("contract_events", contract_ids=(A,), event_types=("transfer",))
    assert both.mask(events).to_pylist() == [True, False, False, False]


def test_amounts_and_accounts():
    ops = pa.record_batch({
        "source_account": [G1, G2, G2, G1],
        "type_string": ["payment", "payment", "create_account", "path_payment_strict_send"],
        "details_json": ['{"amount":1500.5,"asset_type":"native"}', '{"amount":"999.9999999"}',
                         '{"starting_balance":5000}', '{"source_amount":9000,"amount":1000}'],
    })
    big = RowFilter("operations", min_amount=1000.0).mask(ops).to_pylist()
    assert big == [True, False, False, True]  # create_account has no amount; source_amount is not amount
    assert RowFilter("operations", accounts=(G2,)).mask(ops).to_pylist() == [False, True, True, False]
    data = pa.record_batch({"balance": ["", "10", "2000"], "balance_holder": ["", G1, G2]})
    assert RowFilter("contract_data", min_amount=100).mask(data).to_pylist() == [False, False, True]
    assert RowFilter("contract_data", accounts=(G1,)).mask(data).to_pylist() == [False, True, False]


def test_parse_filter_checks_each_key_against_the_table(tmp_path):
    watch = tmp_path / "watch.json"
    watch.write_text(f'["{A}"]')
    schema = output_schema(get_table("contract_data"), "base64", False)
    problems: list[str] = []
    f = parse_filter("contract_data", schema, {"watch_list": str(watch), "contract_id": B}, "p", problems)
    assert not problems and set(f.contract_ids) == {A, B} and f.watch_list == str(watch)
    ledgers = output_schema(get_table("ledgers"), "base64", False)
    assert parse_filter("ledgers", ledgers, {"min_amount": "x"}, "p", problems) is None
    assert problems == ["p.min_amount: expected a number, got 'x'"]
