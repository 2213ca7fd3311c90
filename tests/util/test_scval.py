"""`beam_pipeline.util.scval` against the renderer stellar-etl actually uses.

stellar-etl's ``*_decoded`` columns come from the Rust ``stellar-xdr`` crate's serde JSON (through
``go-stellar-xdr-json``). Every expected text below was produced by that crate, not by our code: it is
the output of ``decode("ScVal", <xdr>)`` from the npm package ``@stellar/stellar-xdr-json`` (the wasm
build of the same crate), versions 27.0.0 and 23.0.0 (identical for all cases; 23.0.0 is the version
the contract-events golden was made with). The XDR inputs cover every ScVal arm and the edges of each
number type, string escaping and every SCAddress kind.
"""

from __future__ import annotations

import json

import pytest
from stellar_sdk import xdr

from beam_pipeline.util.scval import ScValError, escape_bytes, json_text, sc_address_strkey, scval_to_json

# (case, ScVal XDR base64, the Rust crate's JSON text)
ORACLE_CASES = [
    ("bool_true", "AAAAAAAAAAE=", '{"bool":true}'),
    ("bool_false", "AAAAAAAAAAA=", '{"bool":false}'),
    ("void", "AAAAAQ==", '"void"'),
    ("err_contract", "AAAAAgAAAAD/////", '{"error":{"contract":4294967295}}'),
    ("err_wasm", "AAAAAgAAAAEAAAAG", '{"error":{"wasm_vm":"invalid_action"}}'),
    ("err_auth", "AAAAAgAAAAkAAAAJ", '{"error":{"auth":"unexpected_size"}}'),
    ("u32_max", "AAAAA/////8=", '{"u32":4294967295}'),
    ("i32_min", "AAAABIAAAAA=", '{"i32":-2147483648}'),
    ("u64_max", "AAAABf//////////", '{"u64":"18446744073709551615"}'),
    ("i64_min", "AAAABoAAAAAAAAAA", '{"i64":"-9223372036854775808"}'),
    ("timepoint", "AAAAB///////////", '{"timepoint":"18446744073709551615"}'),
    ("duration", "AAAACAAAAAAAAAAA", '{"duration":"0"}'),
    ("u128_max", "AAAACf////////////////////8=", '{"u128":"340282366920938463463374607431768211455"}'),
    ("i128_min", "AAAACoAAAAAAAAAAAAAAAAAAAAA=", '{"i128":"-170141183460469231731687303715884105728"}'),
    ("i128_m1", "AAAACv////////////////////8=", '{"i128":"-1"}'),
    (
        "u256_max",
        "AAAAC///////////////////////////////////////////",
        '{"u256":"115792089237316195423570985008687907853269984665640564039457584007913129639935"}',
    ),
    (
        "i256_min",
        "AAAADIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        '{"i256":"-57896044618658097711785492504343953926634992332820282019728792003956564819968"}',
    ),
    (
        "i256_mixed",
        "AAAADP/////////+AAAAAAAAAAWAAAAAAAAAAAAAAAAAAAAH",
        '{"i256":"-12554203470773361525800025828350171283156150548053343862777"}',
    ),
    ("bytes_empty", "AAAADQAAAAA=", '{"bytes":""}'),
    ("bytes", "AAAADQAAAAUA/xBhYgAAAA==", '{"bytes":"00ff106162"}'),
    (
        "string_escapes",
        "AAAADgAAABFhAAkKDVwiPD4mfx8gfsOp/wAAAA==",
        '{"string":"a\\\\0\\\\t\\\\n\\\\r\\\\\\\\\\"<>&\\\\x7f\\\\x1f ~\\\\xc3\\\\xa9\\\\xff"}',
    ),
    ("symbol", "AAAADwAAAAt0cmFuc2Zlcl9aOQA=", '{"symbol":"transfer_Z9"}'),
    ("vec_none", "AAAAEAAAAAA=", '{"vec":null}'),
    ("vec_empty", "AAAAEAAAAAEAAAAA", '{"vec":[]}'),
    ("map_none", "AAAAEQAAAAA=", '{"map":null}'),
    (
        "map",
        "AAAAEQAAAAEAAAACAAAADwAAAAF6AAAAAAAAAQAAAA8AAAABYQAAAAAAABAAAAABAAAAAQAAAA8AAAABeAAAAA==",
        '{"map":[{"key":{"symbol":"z"},"val":"void"},{"key":{"symbol":"a"},"val":{"vec":[{"symbol":"x"}]}}]}',
    ),
    (
        "addr_account",
        "AAAAEgAAAAAAAAAAO2onvM62pC1io6jQKm8Nc2UyFXcd4kOmOsBIoYtZ2ik=",
        '{"address":"GA5WUJ54Z23KILLCUOUNAKTPBVZWKMQVO4O6EQ5GHLAERIMLLHNCSKYH"}',
    ),
    (
        "addr_contract",
        "AAAAEgAAAAEAAQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHw==",
        '{"address":"CAAACAQDAQCQMBYIBEFAWDANBYHRAEISCMKBKFQXDAMRUGY4DUPB6N4O"}',
    ),
    (
        "addr_muxed",
        "AAAAEgAAAAL//////////gABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f",
        '{"address":"MAAACAQDAQCQMBYIBEFAWDANBYHRAEISCMKBKFQXDAMRUGY4DUPB77777777777772ECS"}',
    ),
    (
        "addr_cb",
        "AAAAEgAAAAMAAAAAAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
        '{"address":"BAAAAAICAMCAKBQHBAEQUCYMBUHA6EARCIJRIFIWC4MBSGQ3DQOR4H2TOM"}',
    ),
    (
        "addr_lp",
        "AAAAEgAAAAQAAQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHw==",
        '{"address":"LAAACAQDAQCQMBYIBEFAWDANBYHRAEISCMKBKFQXDAMRUGY4DUPB6UWD"}',
    ),
    ("instance_sac", "AAAAEwAAAAEAAAAA", '{"contract_instance":{"executable":"stellar_asset","storage":null}}'),
    (
        "instance_wasm",
        "AAAAEwAAAAAAAQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHwAAAAEAAAABAAAADwAAAAFrAAAAAAAAAwAAAAE=",
        (
            '{"contract_instance":{"executable":{"wasm":"000102030405060708090a0b0c0d0e0f1011121314151617'
            '18191a1b1c1d1e1f"},"storage":[{"key":{"symbol":"k"},"val":{"u32":1}}]}}'
        ),
    ),
    ("lk_instance", "AAAAFA==", '"ledger_key_contract_instance"'),
    ("lk_nonce", "AAAAFf/////////7", '{"ledger_key_nonce":{"nonce":"-5"}}'),
]

# The Rust crate's rendering of an SCString holding the bytes 0x00..0xff in order.
ALL_BYTES_RENDERED = (
    "\\0\\x01\\x02\\x03\\x04\\x05\\x06\\x07\\x08\\t\\n\\x0b\\x0c\\r\\x0e\\x0f\\x10\\x11\\x12\\x13\\x14"
    "\\x15\\x16\\x17\\x18\\x19\\x1a\\x1b\\x1c\\x1d\\x1e\\x1f !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHI"
    "JKLMNOPQRSTUVWXYZ[\\\\]^_`abcdefghijklmnopqrstuvwxyz{|}~\\x7f\\x80\\x81\\x82\\x83\\x84\\x85\\x86\\"
    "x87\\x88\\x89\\x8a\\x8b\\x8c\\x8d\\x8e\\x8f\\x90\\x91\\x92\\x93\\x94\\x95\\x96\\x97\\x98\\x99\\x9a"
    "\\x9b\\x9c\\x9d\\x9e\\x9f\\xa0\\xa1\\xa2\\xa3\\xa4\\xa5\\xa6\\xa7\\xa8\\xa9\\xaa\\xab\\xac\\xad\\x"
    "ae\\xaf\\xb0\\xb1\\xb2\\xb3\\xb4\\xb5\\xb6\\xb7\\xb8\\xb9\\xba\\xbb\\xbc\\xbd\\xbe\\xbf\\xc0\\xc1"
    "\\xc2\\xc3\\xc4\\xc5\\xc6\\xc7\\xc8\\xc9\\xca\\xcb\\xcc\\xcd\\xce\\xcf\\xd0\\xd1\\xd2\\xd3\\xd4\\x"
    "d5\\xd6\\xd7\\xd8\\xd9\\xda\\xdb\\xdc\\xdd\\xde\\xdf\\xe0\\xe1\\xe2\\xe3\\xe4\\xe5\\xe6\\xe7\\xe8"
    "\\xe9\\xea\\xeb\\xec\\xed\\xee\\xef\\xf0\\xf1\\xf2\\xf3\\xf4\\xf5\\xf6\\xf7\\xf8\\xf9\\xfa\\xfb\\x"
    "fc\\xfd\\xfe\\xff"
)


def _scval(b64: str) -> xdr.SCVal:
    return xdr.SCVal.from_xdr(b64)


@pytest.mark.parametrize(("b64", "expected"), [c[1:] for c in ORACLE_CASES], ids=[c[0] for c in ORACLE_CASES])
def test_scval_to_json_matches_rust_crate(b64: str, expected: str) -> None:
    assert scval_to_json(_scval(b64)) == json.loads(expected)


@pytest.mark.parametrize(("b64", "expected"), [c[1:] for c in ORACLE_CASES], ids=[c[0] for c in ORACLE_CASES])
def test_json_text_is_go_compact_form(b64: str, expected: str) -> None:
    """Go re-marshals with sorted keys and HTML escaping; the crate's text is compact too.

    For values whose keys are already in sorted order and that hold no ``<``, ``>`` or ``&`` the two
    texts must be identical byte for byte; otherwise they must parse to the same value.
    """
    text = json_text(scval_to_json(_scval(b64)))
    assert json.loads(text) == json.loads(expected)
    if not any(c in expected for c in "<>&"):
        assert text == expected


def test_every_byte_is_escaped_like_the_rust_crate() -> None:
    val = xdr.SCVal(type=xdr.SCValType.SCV_STRING, str=xdr.SCString(bytes(range(256))))
    assert escape_bytes(bytes(range(256))) == ALL_BYTES_RENDERED
    assert scval_to_json(val) == {"string": ALL_BYTES_RENDERED}


def test_json_text_escapes_html_like_go() -> None:
    val = xdr.SCVal(type=xdr.SCValType.SCV_STRING, str=xdr.SCString(b'<a href="x">&</a>'))
    assert json_text(scval_to_json(val)) == '{"string":"\\u003ca href=\\"x\\"\\u003e\\u0026\\u003c/a\\u003e"}'


def test_json_text_keeps_non_ascii_but_escapes_line_separators_like_go() -> None:
    assert json_text({"s": "\u00e9\u2028\u2029"}) == '{"s":"\u00e9\\u2028\\u2029"}'


def test_json_text_sorts_keys_at_every_depth() -> None:
    assert json_text({"val": [{"b": 1, "a": None}], "key": "void"}) == '{"key":"void","val":[{"a":null,"b":1}]}'


@pytest.mark.parametrize(
    "case",
    ["addr_account", "addr_contract", "addr_muxed", "addr_cb", "addr_lp"],
)
def test_sc_address_strkey_agrees_with_address_rendering(case: str) -> None:
    b64, expected = next(c[1:] for c in ORACLE_CASES if c[0] == case)
    assert sc_address_strkey(_scval(b64).address) == json.loads(expected)["address"]


def _external_ref_instance() -> xdr.SCVal:
    contract = xdr.SCAddress(
        xdr.SCAddressType.SC_ADDRESS_TYPE_CONTRACT, contract_id=xdr.ContractID(xdr.Hash(bytes(32)))
    )
    executable = xdr.ContractExecutable(
        xdr.ContractExecutableType.CONTRACT_EXECUTABLE_EXTERNAL_REF,
        external_ref=xdr.ContractExecutableExternalRef(contract, xdr.SCString(b"tag")),
    )
    return xdr.SCVal(type=xdr.SCValType.SCV_CONTRACT_INSTANCE, instance=xdr.SCContractInstance(executable, None))


@pytest.mark.parametrize(
    ("val", "message"),
    [
        (
            xdr.SCVal(type=xdr.SCValType.SCV_EXECUTABLE_TAG, executable_tag=xdr.SCString(b"x")),
            "SCV_EXECUTABLE_TAG",
        ),
        (_external_ref_instance(), "CONTRACT_EXECUTABLE_EXTERNAL_REF"),
        (
            # An unknown arm nested inside a vector must fail the whole value, not be dropped.
            xdr.SCVal(
                type=xdr.SCValType.SCV_VEC,
                vec=xdr.SCVec([xdr.SCVal(type=xdr.SCValType.SCV_EXECUTABLE_TAG, executable_tag=xdr.SCString(b""))]),
            ),
            "SCV_EXECUTABLE_TAG",
        ),
    ],
    ids=["executable_tag", "external_ref_executable", "nested_executable_tag"],
)
def test_arms_unknown_to_stellar_etl_raise(val: xdr.SCVal, message: str) -> None:
    """The crate stellar-etl links (27.0.0) rejects these arms as invalid XDR ("xdr value invalid")."""
    with pytest.raises(ScValError, match=message):
        scval_to_json(val)
