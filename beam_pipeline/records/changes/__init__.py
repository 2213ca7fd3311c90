"""Ledger-entry change tables: one module per stellar-etl change table plus a generic one.

All share `_extract`, which reads and compacts a ledger's changes the way stellar-etl does.
"""
