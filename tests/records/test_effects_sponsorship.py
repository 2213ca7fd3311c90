"""Sponsorship effects for every sponsorable entry kind (account, trust line, data, signer) and signer
effects of set_options: stellar-etl's TestTrustlineSponsorhipEffects and createAccount inputs, and XDR built
after its code for the kinds it has no test for."""

from __future__ import annotations

import base64

from stellar_sdk import StrKey, xdr

from tests.records.effects_fixtures import (
    CREATED,
    CREATOR,
    OT,
    SPONSOR,
    SPONSOR1,
    SPONSOR2,
    SPONSOR_B,
    SRC,
    USD_TEXT,
    T,
    account_id,
    created,
    entry,
    removed,
    run,
    state,
    trust_line,
    updated,
    usd_line,
)

# --- sponsorship --------------------------------------------------------------------------------------

END_SPONSORING = xdr.OperationBody(OT.END_SPONSORING_FUTURE_RESERVES)


def test_trust_line_sponsorship_created_updated_removed() -> None:
    """stellar-etl TestTrustlineSponsorhipEffects: asset and pool-share trust lines."""
    pool_id = bytes.fromhex("19cc788419412926a11049b9fb1f87906b8f02bc6bf8f73d8fd347ede0b79fa5")
    share = xdr.TrustLineAsset(xdr.AssetType.ASSET_TYPE_POOL_SHARE, liquidity_pool_id=xdr.PoolID(xdr.Hash(pool_id)))
    changes = []
    for line in (usd_line(), share):
        changes += [
            state(trust_line(line)),
            updated(trust_line(line, sponsor=SPONSOR1)),
            state(trust_line(line, sponsor=SPONSOR1)),
            updated(trust_line(line, sponsor=SPONSOR2)),
            state(trust_line(line, sponsor=SPONSOR2)),
            updated(trust_line(line)),
        ]
    got = run(END_SPONSORING, changes)
    pool_keys = {"asset_type": "liquidity_pool", "liquidity_pool_id": pool_id.hex()}
    assert got == [
        (SRC, None, "trustline_sponsorship_created", {"asset": USD_TEXT, "sponsor": SPONSOR1}),
        (
            SRC,
            None,
            "trustline_sponsorship_updated",
            {"asset": USD_TEXT, "former_sponsor": SPONSOR1, "new_sponsor": SPONSOR2},
        ),
        (SRC, None, "trustline_sponsorship_removed", {"asset": USD_TEXT, "former_sponsor": SPONSOR2}),
        (SRC, None, "trustline_sponsorship_created", {**pool_keys, "sponsor": SPONSOR1}),
        (
            SRC,
            None,
            "trustline_sponsorship_updated",
            {**pool_keys, "former_sponsor": SPONSOR1, "new_sponsor": SPONSOR2},
        ),
        (SRC, None, "trustline_sponsorship_removed", {**pool_keys, "former_sponsor": SPONSOR2}),
    ]


def account(
    address: str,
    balance: int = 10,
    sponsor: str | None = None,
    signers: list[tuple[str, int, str | None]] = (),
    master: int = 1,
) -> xdr.LedgerEntry:
    signer_list = [
        xdr.Signer(
            xdr.SignerKey(
                xdr.SignerKeyType.SIGNER_KEY_TYPE_ED25519, ed25519=xdr.Uint256(StrKey.decode_ed25519_public_key(key))
            ),
            xdr.Uint32(w),
        )
        for key, w, _ in signers
    ]
    ext = xdr.AccountEntryExt(0)
    if signers:
        v2 = xdr.AccountEntryExtensionV2(
            xdr.Uint32(0),
            xdr.Uint32(0),
            [xdr.SponsorshipDescriptor(None if s is None else account_id(s)) for _, _, s in signers],
            xdr.AccountEntryExtensionV2Ext(0),
        )
        ext = xdr.AccountEntryExt(
            1,
            v1=xdr.AccountEntryExtensionV1(
                xdr.Liabilities(xdr.Int64(0), xdr.Int64(0)), xdr.AccountEntryExtensionV1Ext(2, v2=v2)
            ),
        )
    acc = xdr.AccountEntry(
        account_id(address),
        xdr.Int64(balance),
        xdr.SequenceNumber(xdr.Int64(26)),
        xdr.Uint32(0),
        None,
        xdr.Uint32(0),
        xdr.String32(b""),
        xdr.Thresholds(bytes([master, 0, 0, 0])),
        signer_list,
        ext,
    )
    return entry(xdr.LedgerEntryData(T.ACCOUNT, account=acc), sponsor)


def test_create_account_with_account_sponsorship_changes() -> None:
    """stellar-etl's createAccount case: the creator's sponsor is removed, then updated; the new account's created."""
    body = xdr.OperationBody(
        OT.CREATE_ACCOUNT, create_account_op=xdr.CreateAccountOp(account_id(CREATED), xdr.Int64(10_000_000_000))
    )
    created_key = xdr.LedgerKey(T.ACCOUNT, account=xdr.LedgerKeyAccount(account_id(CREATED)))
    changes = [
        state(account(CREATOR, sponsor=SPONSOR_B)),
        removed(created_key),
        state(account(CREATOR, sponsor=SPONSOR)),
        updated(account(CREATOR, sponsor=SPONSOR_B)),
        state(account(CREATOR, sponsor=SPONSOR)),
        updated(account(CREATOR, sponsor=SPONSOR)),
        created(account(CREATED, 10_000_000_000, sponsor=SPONSOR)),
    ]
    got = run(body, changes, source=CREATOR)
    assert got == [
        (CREATED, None, "account_created", {"starting_balance": "1000.0000000"}),
        (CREATOR, None, "account_debited", {"amount": "1000.0000000", "asset_type": "native"}),
        (CREATED, None, "signer_created", {"public_key": CREATED, "weight": 1}),
        (CREATOR, None, "account_sponsorship_removed", {"former_sponsor": SPONSOR_B}),
        (CREATOR, None, "account_sponsorship_updated", {"former_sponsor": SPONSOR, "new_sponsor": SPONSOR_B}),
        (CREATED, None, "account_sponsorship_created", {"sponsor": SPONSOR}),
    ]


def data_entry(name: bytes, value: bytes, sponsor: str | None = None) -> xdr.LedgerEntry:
    return entry(
        xdr.LedgerEntryData(
            T.DATA, data=xdr.DataEntry(account_id(SRC), xdr.String64(name), xdr.DataValue(value), xdr.DataEntryExt(0))
        ),
        sponsor,
    )


def test_sponsored_data_entry() -> None:
    body = xdr.OperationBody(OT.MANAGE_DATA, manage_data_op=xdr.ManageDataOp(xdr.String64(b"k"), xdr.DataValue(b"v1")))
    assert run(body, [created(data_entry(b"k", b"v1", SPONSOR1))], source=SRC) == [
        (SRC, None, "data_created", {"name": "k", "value": base64.b64encode(b"v1").decode()}),
        (SRC, None, "data_sponsorship_created", {"data_name": "k", "sponsor": SPONSOR1}),
    ]
    key = xdr.LedgerKey(T.DATA, data=xdr.LedgerKeyData(account_id(SRC), xdr.String64(b"k")))
    body = xdr.OperationBody(OT.MANAGE_DATA, manage_data_op=xdr.ManageDataOp(xdr.String64(b"k"), None))
    assert run(body, [state(data_entry(b"k", b"v1", SPONSOR1)), removed(key)]) == [
        (SRC, None, "data_removed", {"name": "k"}),
        (SRC, None, "data_sponsorship_removed", {"data_name": "k", "former_sponsor": SPONSOR1}),
    ]


def test_signer_sponsorship_created_updated_removed_sorted_by_signer() -> None:
    s1, s2, s3 = sorted([SPONSOR1, CREATED, CREATOR])
    before = account(SRC, signers=[(s1, 1, SPONSOR), (s2, 1, SPONSOR)])
    after = account(SRC, signers=[(s2, 1, SPONSOR_B), (s3, 2, SPONSOR)])
    body = xdr.OperationBody(
        OT.REVOKE_SPONSORSHIP,
        revoke_sponsorship_op=xdr.RevokeSponsorshipOp(
            xdr.RevokeSponsorshipType.REVOKE_SPONSORSHIP_LEDGER_ENTRY,
            ledger_key=xdr.LedgerKey(T.ACCOUNT, account=xdr.LedgerKeyAccount(account_id(SRC))),
        ),
    )
    assert run(body, [state(before), updated(after)]) == [
        (SRC, None, "signer_sponsorship_removed", {"former_sponsor": SPONSOR, "signer": s1}),
        (SRC, None, "signer_sponsorship_updated", {"former_sponsor": SPONSOR, "new_sponsor": SPONSOR_B, "signer": s2}),
        (SRC, None, "signer_sponsorship_created", {"sponsor": SPONSOR, "signer": s3}),
    ]


def test_set_options_signer_effects_removed_updated_then_created() -> None:
    s1, s2, s3 = sorted([SPONSOR1, CREATED, CREATOR])
    before = account(SRC, signers=[(s1, 1, None), (s2, 1, None)])
    after = account(SRC, signers=[(s2, 5, None), (s3, 2, None)], master=0)
    body = xdr.OperationBody(
        OT.SET_OPTIONS,
        set_options_op=xdr.SetOptionsOp(None, None, None, None, None, None, None, xdr.String32(b"example.com"), None),
    )
    assert run(body, [state(before), updated(after)]) == [
        (SRC, None, "account_home_domain_updated", {"home_domain": "example.com"}),
        *sorted(
            [(SRC, None, "signer_removed", {"public_key": s1}), (SRC, None, "signer_removed", {"public_key": SRC})],
            key=lambda e: e[3]["public_key"],
        ),
        (SRC, None, "signer_updated", {"public_key": s2, "weight": 5}),
        (SRC, None, "signer_created", {"public_key": s3, "weight": 2}),
    ]


def test_data_entry_sponsorship_transferred() -> None:
    key = xdr.LedgerKey(T.DATA, data=xdr.LedgerKeyData(account_id(SRC), xdr.String64(b"k")))
    body = xdr.OperationBody(
        OT.REVOKE_SPONSORSHIP,
        revoke_sponsorship_op=xdr.RevokeSponsorshipOp(
            xdr.RevokeSponsorshipType.REVOKE_SPONSORSHIP_LEDGER_ENTRY, ledger_key=key
        ),
    )
    changes = [state(data_entry(b"k", b"v", SPONSOR1)), updated(data_entry(b"k", b"v", SPONSOR2))]
    assert run(body, changes, source=SPONSOR1) == [
        (
            SPONSOR1,
            None,
            "data_sponsorship_updated",
            {"data_name": "k", "former_sponsor": SPONSOR1, "new_sponsor": SPONSOR2},
        ),
    ]
