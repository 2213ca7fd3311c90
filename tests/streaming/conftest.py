"""Fixtures for the streaming tests: the fake Stellar RPC server."""

from tests.fakes.rpc_server import fake_rpc  # noqa: F401 - a fixture, used by name
