"""Total Order IDs, packed exactly as stellar-etl / Horizon do.

A TOID is a signed 64-bit integer: ledger sequence in the high 32 bits, the 1-based transaction
application order in the next 20 bits and the 1-based operation index in the low 12 bits.
"""

TX_BITS = 20
OP_BITS = 12

_TX_MAX = (1 << TX_BITS) - 1
_OP_MAX = (1 << OP_BITS) - 1


def toid(ledger: int, tx_order: int = 0, op_index: int = 0) -> int:
    """Packs a ledger / transaction / operation position into one id."""
    if not 0 <= tx_order <= _TX_MAX:
        raise ValueError(f"transaction order {tx_order} out of range for a TOID (ledger {ledger})")
    if not 0 <= op_index <= _OP_MAX:
        raise ValueError(f"operation index {op_index} out of range for a TOID (ledger {ledger})")
    if not 0 <= ledger < (1 << 31):
        raise ValueError(f"ledger {ledger} out of range for a TOID")
    return (ledger << (TX_BITS + OP_BITS)) | (tx_order << OP_BITS) | op_index


def parse(value: int) -> tuple[int, int, int]:
    """Splits a TOID into (ledger, tx_order, op_index)."""
    return value >> (TX_BITS + OP_BITS), (value >> OP_BITS) & _TX_MAX, value & _OP_MAX
