"""Fixtures shared by the whole suite: where the real ledgers are, and running the job."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.harness import SHARED_LEDGERS


@pytest.fixture(scope="session")
def shared_ledgers() -> Path:
    """``../shared/ledgers`` beside the repository; the suite fails (not skips) without it."""
    if not (SHARED_LEDGERS / "datastores").is_dir():
        pytest.fail(f"real ledger data missing at {SHARED_LEDGERS}; the tests need ../shared/ledgers")
    return SHARED_LEDGERS
