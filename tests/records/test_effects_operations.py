"""Exact effect rows of payments, path payments, offers with fills, set_options, change_trust, manage_data,
bump_sequence, account_merge and inflation, from one-operation transactions built in XDR.

Expected rows follow stellar-etl's ``internal/transform/effects.go``: the order effects are appended,
the ``details`` keys and their JSON value types (amounts as 7-decimal strings, thresholds, weights,
offer ids and sequence numbers as numbers). Each case names (address, address_muxed, type_string, details).
"""

from __future__ import annotations

import base64
import json

import pytest
from stellar_sdk import StrKey, xdr

from beam_pipeline.records import effects
from beam_pipeline.util.toid import toid
from tests.records._load import load_ledgers
from tests.records.effects_fixtures import (
    CREATED,
    CREATOR,
    ISSUER,
    NATIVE,
    OT,
    SPONSOR,
    SPONSOR1,
    SRC,
    USD,
    T,
    a4,
    account_id,
    created,
    entry,
    muxed,
    removed,
    run,
    state,
    trust_line,
    updated,
    usd_line,
)

EUR = a4(b"EUR", ISSUER)
USD_DETAILS = {"asset_type": "credit_alphanum4", "asset_code": "USD", "asset_issuer": SRC}


def m_address(address: str, mux_id: int) -> str:
    """The M... strkey of `address` with memo id `mux_id`, written independently of the code under test."""
    return StrKey.encode_med25519_public_key(StrKey.decode_ed25519_public_key(address) + mux_id.to_bytes(8, "big"))


def with_prefix(prefix: str, asset: dict) -> dict:
    return {prefix + k: v for k, v in asset.items()}


def fill_rows(buyer: tuple, seller: str, bought: dict, sold: dict, path_payment: bool) -> list[tuple]:
    """One order-book fill: trade, offer_updated, offer_removed (and offer_created unless a strict send
    path payment), each buyer then seller; `buyer` is (address, address_muxed)."""
    kinds = ["trade", "offer_updated", "offer_removed"] + ([] if path_payment else ["offer_created"])
    rows = []
    for kind in kinds:
        rows += [(*buyer, kind, bought), (seller, None, kind, sold)]
    return rows


def order_book(seller: str, offer_id: int, sold: xdr.Asset, sold_amount: int, bought: xdr.Asset, bought_amount: int):
    atom = xdr.ClaimOfferAtom(
        account_id(seller), xdr.Int64(offer_id), sold, xdr.Int64(sold_amount), bought, xdr.Int64(bought_amount)
    )
    return xdr.ClaimAtom(xdr.ClaimAtomType.CLAIM_ATOM_TYPE_ORDER_BOOK, order_book=atom)


def v0_atom(seller: str, offer_id: int, sold: xdr.Asset, sold_amount: int, bought: xdr.Asset, bought_amount: int):
    atom = xdr.ClaimOfferAtomV0(
        xdr.Uint256(StrKey.decode_ed25519_public_key(seller)),
        xdr.Int64(offer_id),
        sold,
        xdr.Int64(sold_amount),
        bought,
        xdr.Int64(bought_amount),
    )
    return xdr.ClaimAtom(xdr.ClaimAtomType.CLAIM_ATOM_TYPE_V0, v0=atom)


# --- payments --------------------------------------------------------------------------------------


def test_payment_credits_destination_then_debits_source_with_muxed_addresses() -> None:
    op = xdr.PaymentOp(muxed(CREATED, 9), USD, xdr.Int64(125_000_000))
    body = xdr.OperationBody(OT.PAYMENT, payment_op=op)
    usd = {"amount": "12.5000000", **USD_DETAILS}
    assert run(body, op_source=muxed(SRC, 5)) == [
        (CREATED, m_address(CREATED, 9), "account_credited", usd),
        (SRC, m_address(SRC, 5), "account_debited", usd),
    ]
    native = xdr.OperationBody(OT.PAYMENT, payment_op=xdr.PaymentOp(muxed(CREATED), NATIVE, xdr.Int64(1)))
    xlm = {"amount": "0.0000001", "asset_type": "native"}
    assert run(native) == [(CREATED, None, "account_credited", xlm), (SRC, None, "account_debited", xlm)]


def test_path_payment_strict_send_credits_what_arrived_and_skips_offer_created() -> None:
    """Credit = the result's last amount, debit = the operation's send amount; the fill is seen from the
    (muxed) source as buyer and the offer owner as seller, whose details carry seller_muxed(_id)."""
    op = xdr.PathPaymentStrictSendOp(NATIVE, xdr.Int64(100_000_000), muxed(CREATED), USD, xdr.Int64(1), [])
    success = xdr.PathPaymentStrictSendResultSuccess(
        [order_book(ISSUER, 77, USD, 50, NATIVE, 100_000_000)],
        xdr.SimplePaymentResult(account_id(CREATED), USD, xdr.Int64(50)),
    )
    result = xdr.OperationResultTr(
        OT.PATH_PAYMENT_STRICT_SEND,
        path_payment_strict_send_result=xdr.PathPaymentStrictSendResult(
            xdr.PathPaymentStrictSendResultCode.PATH_PAYMENT_STRICT_SEND_SUCCESS, success=success
        ),
    )
    body = xdr.OperationBody(OT.PATH_PAYMENT_STRICT_SEND, path_payment_strict_send_op=op)
    source = (SRC, m_address(SRC, 3))
    bought = {
        "offer_id": 77,
        "seller": ISSUER,
        "bought_amount": "0.0000050",
        "sold_amount": "10.0000000",
        **with_prefix("bought_", USD_DETAILS),
        "sold_asset_type": "native",
    }
    sold = {
        "offer_id": 77,
        "seller": SRC,
        "seller_muxed": m_address(SRC, 3),
        "seller_muxed_id": 3,
        "bought_amount": "10.0000000",
        "sold_amount": "0.0000050",
        "bought_asset_type": "native",
        **with_prefix("sold_", USD_DETAILS),
    }
    assert run(body, [], result, op_source=muxed(SRC, 3)) == [
        (CREATED, None, "account_credited", {"amount": "0.0000050", **USD_DETAILS}),
        (*source, "account_debited", {"amount": "10.0000000", "asset_type": "native"}),
        *fill_rows(source, ISSUER, bought, sold, path_payment=True),
    ]


def test_path_payment_strict_receive_debits_the_leading_fills_and_writes_offer_created() -> None:
    """Two hops (native -> EUR -> USD): the debit is the first hop's amount bought (go's SendAmount),
    the credit the operation's dest amount; each hop gives four effect pairs."""
    op = xdr.PathPaymentStrictReceiveOp(NATIVE, xdr.Int64(10**9), muxed(CREATED, 1), USD, xdr.Int64(40), [EUR])
    success = xdr.PathPaymentStrictReceiveResultSuccess(
        [order_book(ISSUER, 5, EUR, 7, NATIVE, 60), order_book(CREATOR, 6, USD, 40, EUR, 7)],
        xdr.SimplePaymentResult(account_id(CREATED), USD, xdr.Int64(40)),
    )
    result = xdr.OperationResultTr(
        OT.PATH_PAYMENT_STRICT_RECEIVE,
        path_payment_strict_receive_result=xdr.PathPaymentStrictReceiveResult(
            xdr.PathPaymentStrictReceiveResultCode.PATH_PAYMENT_STRICT_RECEIVE_SUCCESS, success=success
        ),
    )
    body = xdr.OperationBody(OT.PATH_PAYMENT_STRICT_RECEIVE, path_payment_strict_receive_op=op)
    eur = {"asset_type": "credit_alphanum4", "asset_code": "EUR", "asset_issuer": ISSUER}
    hop1 = (
        {
            "offer_id": 5,
            "seller": ISSUER,
            "bought_amount": "0.0000007",
            "sold_amount": "0.0000060",
            **with_prefix("bought_", eur),
            "sold_asset_type": "native",
        },
        {
            "offer_id": 5,
            "seller": SRC,
            "bought_amount": "0.0000060",
            "sold_amount": "0.0000007",
            "bought_asset_type": "native",
            **with_prefix("sold_", eur),
        },
    )
    hop2 = (
        {
            "offer_id": 6,
            "seller": CREATOR,
            "bought_amount": "0.0000040",
            "sold_amount": "0.0000007",
            **with_prefix("bought_", USD_DETAILS),
            **with_prefix("sold_", eur),
        },
        {
            "offer_id": 6,
            "seller": SRC,
            "bought_amount": "0.0000007",
            "sold_amount": "0.0000040",
            **with_prefix("bought_", eur),
            **with_prefix("sold_", USD_DETAILS),
        },
    )
    assert run(body, [], result) == [
        (CREATED, m_address(CREATED, 1), "account_credited", {"amount": "0.0000040", **USD_DETAILS}),
        (SRC, None, "account_debited", {"amount": "0.0000060", "asset_type": "native"}),
        *fill_rows((SRC, None), ISSUER, *hop1, path_payment=False),
        *fill_rows((SRC, None), CREATOR, *hop2, path_payment=False),
    ]


def _strict_receive(atoms: list[xdr.ClaimAtom], last_amount: int) -> list[tuple]:
    op = xdr.PathPaymentStrictReceiveOp(NATIVE, xdr.Int64(10**9), muxed(CREATED), USD, xdr.Int64(40), [])
    success = xdr.PathPaymentStrictReceiveResultSuccess(
        atoms, xdr.SimplePaymentResult(account_id(CREATED), USD, xdr.Int64(last_amount))
    )
    result = xdr.OperationResultTr(
        OT.PATH_PAYMENT_STRICT_RECEIVE,
        path_payment_strict_receive_result=xdr.PathPaymentStrictReceiveResult(
            xdr.PathPaymentStrictReceiveResultCode.PATH_PAYMENT_STRICT_RECEIVE_SUCCESS, success=success
        ),
    )
    return run(xdr.OperationBody(OT.PATH_PAYMENT_STRICT_RECEIVE, path_payment_strict_receive_op=op), [], result)


def test_path_payment_strict_receive_send_amount() -> None:
    """Without fills the debit is the last hop's amount; with several leading fills buying the send
    asset it is their sum (go's PathPaymentStrictReceiveResult.SendAmount)."""
    credit = (CREATED, None, "account_credited", {"amount": "0.0000040", **USD_DETAILS})
    assert _strict_receive([], 33) == [
        credit,
        (SRC, None, "account_debited", {"amount": "0.0000033", "asset_type": "native"}),
    ]
    fills = [order_book(ISSUER, 1, USD, 25, NATIVE, 11), order_book(CREATOR, 2, USD, 15, NATIVE, 9)]
    got = _strict_receive(fills, 40)
    assert got[:2] == [credit, (SRC, None, "account_debited", {"amount": "0.0000020", "asset_type": "native"})]
    assert [(r[0], r[2], r[3]["offer_id"]) for r in got[2:]] == [
        (address, kind, offer)
        for offer, seller in ((1, ISSUER), (2, CREATOR))
        for kind in ("trade", "offer_updated", "offer_removed", "offer_created")
        for address in (SRC, seller)
    ]


# --- offers with fills -------------------------------------------------------------------------------


def _offer_success(atoms: list[xdr.ClaimAtom]) -> xdr.ManageOfferSuccessResult:
    return xdr.ManageOfferSuccessResult(
        atoms, xdr.ManageOfferSuccessResultOffer(xdr.ManageOfferEffect.MANAGE_OFFER_DELETED)
    )


def _sell_result(atoms: list[xdr.ClaimAtom]) -> xdr.ManageSellOfferResult:
    return xdr.ManageSellOfferResult(
        xdr.ManageSellOfferResultCode.MANAGE_SELL_OFFER_SUCCESS, success=_offer_success(atoms)
    )


# The source sells native for USD; the maker (ISSUER) sold 3 USD stroops for 20 native stroops. A fill that
# moved nothing comes first and must leave no effects; a V0 atom (pre-protocol-18 results) reads alike.
FILLS = [order_book(SPONSOR, 1, USD, 0, NATIVE, 0), order_book(ISSUER, 42, USD, 3, NATIVE, 20)]
BOUGHT = {
    "offer_id": 42,
    "seller": ISSUER,
    "bought_amount": "0.0000003",
    "sold_amount": "0.0000020",
    **with_prefix("bought_", USD_DETAILS),
    "sold_asset_type": "native",
}
SOLD = {
    "offer_id": 42,
    "seller": SRC,
    "bought_amount": "0.0000020",
    "sold_amount": "0.0000003",
    "bought_asset_type": "native",
    **with_prefix("sold_", USD_DETAILS),
}
PRICE = xdr.Price(xdr.Int32(1), xdr.Int32(1))
SELL_OP = xdr.ManageSellOfferOp(NATIVE, USD, xdr.Int64(20), PRICE, xdr.Int64(0))


def _offer_cases() -> list:
    buy = xdr.ManageBuyOfferOp(NATIVE, USD, xdr.Int64(3), PRICE, xdr.Int64(0))
    passive = xdr.CreatePassiveSellOfferOp(NATIVE, USD, xdr.Int64(20), PRICE)
    return [
        pytest.param(
            xdr.OperationBody(OT.MANAGE_SELL_OFFER, manage_sell_offer_op=SELL_OP),
            xdr.OperationResultTr(OT.MANAGE_SELL_OFFER, manage_sell_offer_result=_sell_result(FILLS)),
            id="manage_sell_offer",
        ),
        pytest.param(
            xdr.OperationBody(OT.MANAGE_SELL_OFFER, manage_sell_offer_op=SELL_OP),
            xdr.OperationResultTr(
                OT.MANAGE_SELL_OFFER, manage_sell_offer_result=_sell_result([v0_atom(ISSUER, 42, USD, 3, NATIVE, 20)])
            ),
            id="manage_sell_offer_v0_atom",
        ),
        pytest.param(
            xdr.OperationBody(OT.MANAGE_BUY_OFFER, manage_buy_offer_op=buy),
            xdr.OperationResultTr(
                OT.MANAGE_BUY_OFFER,
                manage_buy_offer_result=xdr.ManageBuyOfferResult(
                    xdr.ManageBuyOfferResultCode.MANAGE_BUY_OFFER_SUCCESS, success=_offer_success(FILLS)
                ),
            ),
            id="manage_buy_offer",
        ),
        pytest.param(
            xdr.OperationBody(OT.CREATE_PASSIVE_SELL_OFFER, create_passive_sell_offer_op=passive),
            xdr.OperationResultTr(OT.CREATE_PASSIVE_SELL_OFFER, create_passive_sell_offer_result=_sell_result(FILLS)),
            id="create_passive_sell_offer",
        ),
        pytest.param(  # stellar-core's known wrong result arm for passive offers
            xdr.OperationBody(OT.CREATE_PASSIVE_SELL_OFFER, create_passive_sell_offer_op=passive),
            xdr.OperationResultTr(OT.MANAGE_SELL_OFFER, manage_sell_offer_result=_sell_result(FILLS)),
            id="create_passive_sell_offer_manage_sell_arm",
        ),
    ]


@pytest.mark.parametrize(("body", "result"), _offer_cases())
def test_offer_fill_gives_four_effect_pairs(body: xdr.OperationBody, result: xdr.OperationResultTr) -> None:
    assert run(body, [], result) == fill_rows((SRC, None), ISSUER, BOUGHT, SOLD, path_payment=False)


def test_offer_fill_by_a_muxed_source_names_it_in_the_sellers_details() -> None:
    body = xdr.OperationBody(OT.MANAGE_SELL_OFFER, manage_sell_offer_op=SELL_OP)
    result = xdr.OperationResultTr(OT.MANAGE_SELL_OFFER, manage_sell_offer_result=_sell_result(FILLS))
    buyer = (SRC, m_address(SRC, 2**64 - 1))
    sold = {**SOLD, "seller_muxed": m_address(SRC, 2**64 - 1), "seller_muxed_id": 2**64 - 1}
    assert run(body, [], result, op_source=muxed(SRC, 2**64 - 1)) == fill_rows(
        buyer, ISSUER, BOUGHT, sold, path_payment=False
    )


# --- set_options ---------------------------------------------------------------------------------


def _ed25519_signer(address: str, weight: int) -> xdr.Signer:
    key = xdr.SignerKey(
        xdr.SignerKeyType.SIGNER_KEY_TYPE_ED25519, ed25519=xdr.Uint256(StrKey.decode_ed25519_public_key(address))
    )
    return xdr.Signer(key, xdr.Uint32(weight))


def account(seq: int = 1, master: int = 1, signers: tuple = (), balance: int = 10**8) -> xdr.LedgerEntry:
    acc = xdr.AccountEntry(
        account_id(SRC),
        xdr.Int64(balance),
        xdr.SequenceNumber(xdr.Int64(seq)),
        xdr.Uint32(len(signers)),
        None,
        xdr.Uint32(0),
        xdr.String32(b""),
        xdr.Thresholds(bytes([master, 0, 0, 0])),
        [_ed25519_signer(a, w) for a, w in signers],
        xdr.AccountEntryExt(0),
    )
    return entry(xdr.LedgerEntryData(T.ACCOUNT, account=acc))


def test_set_options_effects_in_stellar_etl_order() -> None:
    """Home domain, thresholds (only those set), flags (set true, cleared false), inflation destination,
    then signers from the account change: removed/updated over the sorted old signers (master key
    included while its weight is non-zero), then created; all on the muxed source."""
    op = xdr.SetOptionsOp(
        inflation_dest=account_id(SPONSOR),
        clear_flags=xdr.Uint32(8),
        set_flags=xdr.Uint32(1 | 2),
        master_weight=xdr.Uint32(0),
        low_threshold=xdr.Uint32(1),
        med_threshold=None,
        high_threshold=xdr.Uint32(3),
        home_domain=xdr.String32(b"example.com"),
        signer=_ed25519_signer(CREATED, 1),
    )
    # SRC=GAUJ.. < CREATOR=GBRP.. < CREATED=GCQZ.. < SPONSOR1=GDMQ..
    before = account(master=1, signers=((CREATOR, 1), (SPONSOR1, 2)))
    after = account(master=0, signers=((CREATOR, 5), (CREATED, 1)))
    source = (SRC, m_address(SRC, 11))
    got = run(
        xdr.OperationBody(OT.SET_OPTIONS, set_options_op=op),
        [state(before), updated(after)],
        op_source=muxed(SRC, 11),
    )
    assert got == [
        (*source, "account_home_domain_updated", {"home_domain": "example.com"}),
        (*source, "account_thresholds_updated", {"low_threshold": 1, "high_threshold": 3}),
        (
            *source,
            "account_flags_updated",
            {"auth_required_flag": True, "auth_revocable_flag": True, "auth_clawback_enabled_flag": False},
        ),
        (*source, "account_inflation_destination_updated", {"inflation_destination": SPONSOR}),
        (*source, "signer_removed", {"public_key": SRC}),
        (*source, "signer_updated", {"public_key": CREATOR, "weight": 5}),
        (*source, "signer_removed", {"public_key": SPONSOR1}),
        (*source, "signer_created", {"public_key": CREATED, "weight": 1}),
    ]


def test_set_options_without_changes_of_note_has_no_effects() -> None:
    op = xdr.SetOptionsOp(None, None, None, None, None, None, None, None, None)
    same = account(signers=((CREATOR, 1),))
    assert run(xdr.OperationBody(OT.SET_OPTIONS, set_options_op=op), [state(same), updated(same)]) == []


# --- change_trust, manage_data, bump_sequence ------------------------------------------------------

_TRUST_KEY = xdr.LedgerKey(T.TRUSTLINE, trust_line=xdr.LedgerKeyTrustLine(account_id(SRC), usd_line()))


@pytest.mark.parametrize(
    ("changes", "limit", "kind"),
    [
        ([created(trust_line(usd_line(), limit=900))], 900, "trustline_created"),
        (
            [state(trust_line(usd_line(), limit=900)), updated(trust_line(usd_line(), limit=50))],
            50,
            "trustline_updated",
        ),
        ([state(trust_line(usd_line(), balance=0)), removed(_TRUST_KEY)], 0, "trustline_removed"),
    ],
)
def test_change_trust(changes: list, limit: int, kind: str) -> None:
    """The limit is the operation's; the asset is the operation's line."""
    line = xdr.ChangeTrustAsset(USD.type, alpha_num4=USD.alpha_num4)
    body = xdr.OperationBody(OT.CHANGE_TRUST, change_trust_op=xdr.ChangeTrustOp(line, xdr.Int64(limit)))
    assert run(body, changes) == [(SRC, None, kind, {"limit": f"0.{limit:07d}", **USD_DETAILS})]


def _data(value: bytes) -> xdr.LedgerEntry:
    data = xdr.DataEntry(account_id(SRC), xdr.String64(b"config"), xdr.DataValue(value), xdr.DataEntryExt(0))
    return entry(xdr.LedgerEntryData(T.DATA, data=data))


_DATA_KEY = xdr.LedgerKey(T.DATA, data=xdr.LedgerKeyData(account_id(SRC), xdr.String64(b"config")))


@pytest.mark.parametrize(
    ("value", "changes", "expected"),
    [
        (
            b"\x00\xff",
            [created(_data(b"\x00\xff"))],
            ("data_created", {"value": base64.b64encode(b"\x00\xff").decode()}),
        ),
        (b"v2", [state(_data(b"v1")), updated(_data(b"v2"))], ("data_updated", {"value": "djI="})),
        (None, [state(_data(b"v1")), removed(_DATA_KEY)], ("data_removed", {})),
        # stellar-etl keeps effect type 0 when the meta shows no data change
        (b"v1", [], ("account_created", {})),
    ],
)
def test_manage_data(value: bytes | None, changes: list, expected: tuple) -> None:
    op = xdr.ManageDataOp(xdr.String64(b"config"), None if value is None else xdr.DataValue(value))
    kind, extra = expected
    assert run(xdr.OperationBody(OT.MANAGE_DATA, manage_data_op=op), changes) == [
        (SRC, None, kind, {"name": "config", **extra})
    ]


def test_bump_sequence_only_when_the_sequence_moved() -> None:
    body = xdr.OperationBody(
        OT.BUMP_SEQUENCE, bump_sequence_op=xdr.BumpSequenceOp(xdr.SequenceNumber(xdr.Int64(2**40)))
    )
    assert run(body, [state(account(seq=7)), updated(account(seq=2**40))], op_source=muxed(SRC, 1)) == [
        (SRC, m_address(SRC, 1), "sequence_bumped", {"new_seq": 2**40})
    ]
    assert run(body, [state(account(seq=7)), updated(account(seq=7))]) == []


# --- account_merge, inflation ---------------------------------------------------------------------


def test_account_merge_debits_credits_then_removes() -> None:
    body = xdr.OperationBody(OT.ACCOUNT_MERGE, destination=muxed(CREATED, 4))
    result = xdr.OperationResultTr(
        OT.ACCOUNT_MERGE,
        account_merge_result=xdr.AccountMergeResult(
            xdr.AccountMergeResultCode.ACCOUNT_MERGE_SUCCESS, source_account_balance=xdr.Int64(1_234_567_890)
        ),
    )
    key = xdr.LedgerKey(T.ACCOUNT, account=xdr.LedgerKeyAccount(account_id(SRC)))
    xlm = {"amount": "123.4567890", "asset_type": "native"}
    assert run(body, [state(account(balance=1_234_567_890)), removed(key)], result, op_source=muxed(SRC, 8)) == [
        (SRC, m_address(SRC, 8), "account_debited", xlm),
        (CREATED, m_address(CREATED, 4), "account_credited", xlm),
        (SRC, m_address(SRC, 8), "account_removed", {}),
    ]


def test_inflation_credits_each_payout() -> None:
    payouts = [
        xdr.InflationPayout(account_id(CREATED), xdr.Int64(10**7)),
        xdr.InflationPayout(account_id(ISSUER), xdr.Int64(5)),
    ]
    result = xdr.OperationResultTr(
        OT.INFLATION, inflation_result=xdr.InflationResult(xdr.InflationResultCode.INFLATION_SUCCESS, payouts)
    )
    assert run(xdr.OperationBody(OT.INFLATION), [], result) == [
        (CREATED, None, "account_credited", {"amount": "1.0000000", "asset_type": "native"}),
        (ISSUER, None, "account_credited", {"amount": "0.0000005", "asset_type": "native"}),
    ]


# --- real operations (testnet-p19-lpf64) -----------------------------------------------------------

_MERGED = "GBXON6LP6UFNG64SKC7V6JEKOBQKSEOYWITXRJWL5HYV5W2L4Z3ETA6Z"
_TRUSTOR = "GCADQULEEVJDEY3DCMD26NFJRGPOXTCHIVNIYIMIOPSIMR5GNOP757JX"
_SEC = {
    "asset_type": "credit_alphanum4",
    "asset_code": "SEC",
    "asset_issuer": "GCOKJKDQD2YTICPGZAP72RFGFGYAMAFCJCWQOKDKJKWP4Z5MIHW7EZXD",
}


@pytest.mark.parametrize(
    ("sequence", "tx_index", "expected"),
    [
        pytest.param(  # merge of a 9999.99 XLM account into the friendbot-like funder
            1410051,
            4,
            [
                (_MERGED, None, "account_debited", {"amount": "9999.9900000", "asset_type": "native"}),
                (
                    "GBFAIH5WKAJQ77NG6BZG7TGVGXHPX4SQLIJ7BENJMCVCZSUZPSISCLU5",
                    None,
                    "account_credited",
                    {"amount": "9999.9900000", "asset_type": "native"},
                ),
                (_MERGED, None, "account_removed", {}),
            ],
            id="account_merge",
        ),
        pytest.param(  # set_flags = 11: required | revocable | clawback enabled
            1410091,
            1,
            [
                (
                    "GBCKMB22U56BFQMAAWSZY2CLPTX6OJN7EDSQMHGG4JCPH5TKAZG5DWUN",
                    None,
                    "account_flags_updated",
                    {"auth_required_flag": True, "auth_revocable_flag": True, "auth_clawback_enabled_flag": True},
                )
            ],
            id="set_options_flags",
        ),
        pytest.param(  # new SEC trust line with limit 5e16 stroops
            1410052,
            3,
            [(_TRUSTOR, None, "trustline_created", {"limit": "5000000000.0000000", **_SEC})],
            id="change_trust_created",
        ),
        pytest.param(  # bump_to equals the sequence the transaction already consumed: no effect
            1410081, 1, [], id="bump_sequence_to_current"
        ),
    ],
)
def test_real_operation_effects(sequence: int, tx_index: int, expected: list[tuple]) -> None:
    [ledger] = [lg for lg in load_ledgers("testnet-p19-lpf64") if lg.sequence == sequence]
    [tx] = [t for t in ledger.transactions if t.index == tx_index]
    assert len(tx.operations) == 1 and tx.successful
    rows = effects.transaction_rows(ledger, tx)
    assert [r["operation_id"] for r in rows] == [toid(sequence, tx_index, 1)] * len(rows)
    assert [(r["address"], r["address_muxed"], r["type_string"], json.loads(r["details"])) for r in rows] == expected
