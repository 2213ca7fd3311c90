"""Claimable balances, clawbacks, trust-line flags and fill-less offers: stellar-etl's clawback and
set_trust_line_flags tests, and XDR built after its code for the claimable-balance operations."""

from __future__ import annotations

from stellar_sdk import StrKey, xdr

from tests.records.effects_fixtures import (
    CREATED,
    ISSUER,
    NATIVE,
    OT,
    SPONSOR1,
    SRC,
    USD,
    USD_TEXT,
    T,
    a4,
    account_id,
    created,
    entry,
    muxed,
    removed,
    run,
    state,
    updated,
)

# --- claimable balances -------------------------------------------------------------------------------

BALANCE_ID = xdr.ClaimableBalanceID(
    xdr.ClaimableBalanceIDType.CLAIMABLE_BALANCE_ID_TYPE_V0, v0=xdr.Hash(bytes(range(32)))
)
BALANCE_HEX = "00000000" + bytes(range(32)).hex()


def balance_entry(claimants: list[xdr.Claimant], flags: int = 0, sponsor: str | None = None) -> xdr.LedgerEntry:
    ext = (
        xdr.ClaimableBalanceEntryExt(
            1, v1=xdr.ClaimableBalanceEntryExtensionV1(xdr.ClaimableBalanceEntryExtensionV1Ext(0), xdr.Uint32(flags))
        )
        if flags
        else xdr.ClaimableBalanceEntryExt(0)
    )
    cb = xdr.ClaimableBalanceEntry(BALANCE_ID, claimants, USD, xdr.Int64(25), ext)
    return entry(xdr.LedgerEntryData(T.CLAIMABLE_BALANCE, claimable_balance=cb), sponsor)


def claimant(address: str, predicate: xdr.ClaimPredicate) -> xdr.Claimant:
    return xdr.Claimant(xdr.ClaimantType.CLAIMANT_TYPE_V0, v0=xdr.ClaimantV0(account_id(address), predicate))


def test_create_claimable_balance_uses_the_operations_predicates() -> None:
    relative = xdr.ClaimPredicate(xdr.ClaimPredicateType.CLAIM_PREDICATE_BEFORE_RELATIVE_TIME, rel_before=xdr.Int64(60))
    absolute = xdr.ClaimPredicate(xdr.ClaimPredicateType.CLAIM_PREDICATE_BEFORE_ABSOLUTE_TIME, abs_before=xdr.Int64(60))
    op = xdr.CreateClaimableBalanceOp(USD, xdr.Int64(25), [claimant(CREATED, relative)])
    got = run(
        xdr.OperationBody(OT.CREATE_CLAIMABLE_BALANCE, create_claimable_balance_op=op),
        [created(balance_entry([claimant(CREATED, absolute)], flags=1, sponsor=SPONSOR1))],
    )
    cb = {"amount": "0.0000025", "asset": USD_TEXT, "balance_id": BALANCE_HEX}
    assert got == [
        (SRC, None, "claimable_balance_created", {**cb, "claimable_balance_clawback_enabled_flag": True}),
        (CREATED, None, "claimable_balance_claimant_created", {**cb, "predicate": {"rel_before": "60"}}),
        (
            SRC,
            None,
            "account_debited",
            {"amount": "0.0000025", "asset_code": "USD", "asset_issuer": SRC, "asset_type": "credit_alphanum4"},
        ),
        (SRC, None, "claimable_balance_sponsorship_created", {"balance_id": BALANCE_HEX, "sponsor": SPONSOR1}),
    ]


def test_claim_and_clawback_of_a_claimable_balance() -> None:
    unconditional = xdr.ClaimPredicate(xdr.ClaimPredicateType.CLAIM_PREDICATE_UNCONDITIONAL)
    key = xdr.LedgerKey(T.CLAIMABLE_BALANCE, claimable_balance=xdr.LedgerKeyClaimableBalance(BALANCE_ID))
    changes = [state(balance_entry([claimant(CREATED, unconditional)])), removed(key)]
    usd = {"amount": "0.0000025", "asset_code": "USD", "asset_issuer": SRC, "asset_type": "credit_alphanum4"}
    claim = xdr.OperationBody(
        OT.CLAIM_CLAIMABLE_BALANCE, claim_claimable_balance_op=xdr.ClaimClaimableBalanceOp(BALANCE_ID)
    )
    assert run(claim, changes, source=CREATED) == [
        (
            CREATED,
            None,
            "claimable_balance_claimed",
            {"amount": "0.0000025", "asset": USD_TEXT, "balance_id": BALANCE_HEX},
        ),
        (CREATED, None, "account_credited", usd),
    ]
    clawback = xdr.OperationBody(
        OT.CLAWBACK_CLAIMABLE_BALANCE, clawback_claimable_balance_op=xdr.ClawbackClaimableBalanceOp(BALANCE_ID)
    )
    assert run(clawback, changes) == [
        (SRC, None, "claimable_balance_clawed_back", {"balance_id": BALANCE_HEX}),
        (SRC, None, "account_credited", usd),
    ]
    # stellar-etl TestOperationEffectsClawbackClaimableBalance: no meta, only the clawed-back effect.
    balance = xdr.ClaimableBalanceID.from_xdr("AAAAANoNV9p9SFDn/BDSqdDrxzH3r7QFdMAzlbF9SRSbkfW+")
    clawback = xdr.OperationBody(
        OT.CLAWBACK_CLAIMABLE_BALANCE, clawback_claimable_balance_op=xdr.ClawbackClaimableBalanceOp(balance)
    )
    assert run(clawback, [], source=ISSUER) == [
        (
            ISSUER,
            None,
            "claimable_balance_clawed_back",
            {"balance_id": "00000000da0d57da7d4850e7fc10d2a9d0ebc731f7afb40574c03395b17d49149b91f5be"},
        )
    ]


# --- clawback, trust-line flags, offers ----------------------------------------------------------------


def test_clawback_credits_the_issuer_and_debits_the_holder() -> None:
    """stellar-etl TestOperationEffectsClawback."""
    holder = "GDQNY3PBOJOKYZSRMK2S7LHHGWZIUISD4QORETLMXEWXBI7KFZZMKTL3"
    op = xdr.ClawbackOp(a4(b"COP", ISSUER), muxed(holder, 7), xdr.Int64(34))
    cop = {"asset_code": "COP", "asset_issuer": ISSUER, "asset_type": "credit_alphanum4", "amount": "0.0000034"}
    got = run(xdr.OperationBody(OT.CLAWBACK, clawback_op=op), source=ISSUER)
    assert got == [
        (ISSUER, None, "account_credited", cop),
        (
            holder,
            StrKey.encode_med25519_public_key(StrKey.decode_ed25519_public_key(holder) + (7).to_bytes(8, "big")),
            "account_debited",
            cop,
        ),
    ]


def test_set_trust_line_flags() -> None:
    """stellar-etl TestOperationEffectsSetTrustLineFlags (set maintain-liabilities, clear authorized + clawback)."""
    op = xdr.SetTrustLineFlagsOp(account_id(SRC), a4(b"USD", ISSUER), xdr.Uint32(1 | 4), xdr.Uint32(2))
    assert run(xdr.OperationBody(OT.SET_TRUST_LINE_FLAGS, set_trust_line_flags_op=op), source=ISSUER) == [
        (
            ISSUER,
            None,
            "trustline_flags_updated",
            {
                "asset_code": "USD",
                "asset_issuer": ISSUER,
                "asset_type": "credit_alphanum4",
                "authorized_flag": False,
                "authorized_to_maintain_liabilites": True,
                "clawback_enabled_flag": False,
                "trustor": SRC,
            },
        ),
    ]


def test_allow_trust_authorized_to_maintain_liabilities() -> None:
    """stellar-etl TestOperationEffectsAllowTrustAuthorizedToMaintainLiabilities."""
    code = xdr.AssetCode(xdr.AssetType.ASSET_TYPE_CREDIT_ALPHANUM4, asset_code4=xdr.AssetCode4(b"COP\0"))
    op = xdr.AllowTrustOp(account_id(SRC), code, xdr.Uint32(2))
    base = {"asset_code": "COP", "asset_issuer": ISSUER, "asset_type": "credit_alphanum4", "trustor": SRC}
    assert run(xdr.OperationBody(OT.ALLOW_TRUST, allow_trust_op=op), source=ISSUER) == [
        (ISSUER, None, "trustline_flags_updated", base),
        (ISSUER, None, "trustline_flags_updated", {**base, "authorized_to_maintain_liabilites": True}),
    ]


def test_offer_without_fills_has_no_effects() -> None:
    success = xdr.ManageOfferSuccessResult(
        [], xdr.ManageOfferSuccessResultOffer(xdr.ManageOfferEffect.MANAGE_OFFER_DELETED)
    )
    result = xdr.OperationResultTr(
        OT.MANAGE_BUY_OFFER,
        manage_buy_offer_result=xdr.ManageBuyOfferResult(
            xdr.ManageBuyOfferResultCode.MANAGE_BUY_OFFER_SUCCESS, success=success
        ),
    )
    op = xdr.ManageBuyOfferOp(NATIVE, USD, xdr.Int64(0), xdr.Price(xdr.Int32(1), xdr.Int32(1)), xdr.Int64(5))
    assert run(xdr.OperationBody(OT.MANAGE_BUY_OFFER, manage_buy_offer_op=op), [], result) == []


def test_change_trust_without_a_trust_line_change_has_no_effects() -> None:
    """stellar-etl TestOperationRegressionAccountTrustItself: an issuer trusting itself changes nothing."""
    line = xdr.ChangeTrustAsset(USD.type, alpha_num4=USD.alpha_num4)
    assert run(xdr.OperationBody(OT.CHANGE_TRUST, change_trust_op=xdr.ChangeTrustOp(line, xdr.Int64(1000)))) == []


def test_claimable_balance_sponsorship_moves_and_goes_with_the_claim() -> None:
    unconditional = xdr.ClaimPredicate(xdr.ClaimPredicateType.CLAIM_PREDICATE_UNCONDITIONAL)
    claimants = [claimant(CREATED, unconditional)]
    key = xdr.LedgerKey(T.CLAIMABLE_BALANCE, claimable_balance=xdr.LedgerKeyClaimableBalance(BALANCE_ID))
    revoke = xdr.OperationBody(
        OT.REVOKE_SPONSORSHIP,
        revoke_sponsorship_op=xdr.RevokeSponsorshipOp(
            xdr.RevokeSponsorshipType.REVOKE_SPONSORSHIP_LEDGER_ENTRY, ledger_key=key
        ),
    )
    moved = [state(balance_entry(claimants, sponsor=SPONSOR1)), updated(balance_entry(claimants, sponsor=ISSUER))]
    assert run(revoke) == []
    assert run(revoke, moved) == [
        (
            SRC,
            None,
            "claimable_balance_sponsorship_updated",
            {"balance_id": BALANCE_HEX, "former_sponsor": SPONSOR1, "new_sponsor": ISSUER},
        ),
    ]
    claim = xdr.OperationBody(
        OT.CLAIM_CLAIMABLE_BALANCE, claim_claimable_balance_op=xdr.ClaimClaimableBalanceOp(BALANCE_ID)
    )
    got = run(claim, [state(balance_entry(claimants, sponsor=ISSUER)), removed(key)], source=CREATED)
    assert [e[2] for e in got] == [
        "claimable_balance_claimed",
        "account_credited",
        "claimable_balance_sponsorship_removed",
    ]
    assert got[2] == (
        CREATED,
        None,
        "claimable_balance_sponsorship_removed",
        {"balance_id": BALANCE_HEX, "former_sponsor": ISSUER},
    )
