"""What counts as a secret value: the pieces a server or library may quote on their own."""

from __future__ import annotations

import base64

from beam_pipeline.util.secrets import config_secrets, header_secrets, redact, register, url_secrets

TOKEN = "tkn-5d1e0c9a7b"


def test_an_auth_header_yields_its_bare_token_and_a_basic_password():
    assert TOKEN in header_secrets(f"Bearer {TOKEN}")
    assert TOKEN in header_secrets(f"X-API-Key: {TOKEN}")
    basic = base64.b64encode(f"archiver:{TOKEN}".encode()).decode()
    pieces = header_secrets(f"Basic {basic}")
    assert basic in pieces and TOKEN in pieces and f"archiver:{TOKEN}" in pieces


def test_a_url_yields_userinfo_query_and_token_like_values_only():
    pieces = url_secrets(f"https://archiver:{TOKEN}@rpc.example/v1?network=testnet&apikey={TOKEN}2#frag")
    assert f"archiver:{TOKEN}" in pieces and TOKEN in pieces and f"{TOKEN}2" in pieces and "frag" in pieces
    assert "testnet" not in pieces and "archiver" not in pieces  # not secrets on their own
    assert url_secrets("https://rpc.example/v1") == []


def test_a_database_url_s_user_name_is_no_secret_its_password_is():
    assert url_secrets("postgresql://postgres@db.example:5432/stellar") == []
    assert url_secrets("redis://archiver@cache.example:6379/0") == []
    pieces = url_secrets(f"postgresql://archiver:{TOKEN}@db.example/stellar")
    assert TOKEN in pieces and f"archiver:{TOKEN}" in pieces and "archiver" not in pieces
    assert TOKEN in url_secrets(f"redis://:{TOKEN}@cache.example:6379")
    assert url_secrets(f"https://{TOKEN}@rpc.example/") == [TOKEN, TOKEN, TOKEN]  # a bare token elsewhere


def test_a_libpq_keyword_connection_string_yields_its_password_quoted_and_unquoted():
    pieces = url_secrets(f"host=db.example port=5432 user=archiver password='{TOKEN} it\\'s' dbname=stellar")
    assert f"{TOKEN} it's" in pieces and f"'{TOKEN} it\\'s'" in pieces
    assert url_secrets(f"host=db.example password={TOKEN}") == [TOKEN]
    assert url_secrets("host=db.example dbname=stellar user=archiver") == []
    consumer = {"connection_string": f"host=db.example password='{TOKEN}z' dbname=stellar"}
    assert f"{TOKEN}z" in config_secrets({"consumers": [consumer]})


def test_config_secrets_walk_nested_settings_by_field_name():
    cfg = {"source": {"rpc_url": f"https://rpc.example/?key={TOKEN}", "auth_header": f"Bearer {TOKEN}x"},
           "consumers": [{"endpoint": f"http://u:{TOKEN}y@minio:9000", "bucket_name": "archive"}]}
    found = config_secrets(cfg)
    assert {TOKEN, f"{TOKEN}x", f"{TOKEN}y"} <= set(found) and "archive" not in found


def test_registered_values_are_redacted_longest_first():
    register([f"{TOKEN}-long", f"{TOKEN}-long-er", "short"])
    assert redact(f"a {TOKEN}-long-er b {TOKEN}-long c short") == "a <redacted> b <redacted> c short"
