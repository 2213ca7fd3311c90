"""TOIDs packed exactly like stellar-etl's (ledger 32 bits, tx order 20 bits, op index 12 bits)."""

import pytest

from beam_pipeline.util.toid import toid


@pytest.mark.parametrize(
    "ledger, tx, op, expected",
    [
        # from the golden rows of ledger 30820015 (tests/test_archive_goldens.py compares them all)
        (30820015, 0, 0, 30820015 << 32),
        (30820015, 33, 0, 132370956487364608),
        (30820015, 33, 4, 132370956487364612),
        (1, 0, 1, 1 << 32 | 1),
        ((1 << 31) - 1, (1 << 20) - 1, (1 << 12) - 1, (1 << 63) - 1),
    ],
)
def test_packing(ledger, tx, op, expected):
    assert toid(ledger, tx, op) == expected


@pytest.mark.parametrize("ledger, tx, op", [(1, 1 << 20, 0), (1, 0, 1 << 12), (1 << 31, 0, 0), (-1, 0, 0)])
def test_out_of_range_positions_are_errors(ledger, tx, op):
    with pytest.raises(ValueError, match="out of range"):
        toid(ledger, tx, op)


def test_parse_inverts_packing():
    from beam_pipeline.util.toid import parse

    assert parse(toid(30820015, 33, 4)) == (30820015, 33, 4)
    assert parse((1 << 63) - 1) == ((1 << 31) - 1, (1 << 20) - 1, (1 << 12) - 1)
