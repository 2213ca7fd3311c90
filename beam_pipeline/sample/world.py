"""The sample's world model: accounts, one credit asset's trustlines, offers, and their change records.

It is a tiny in-memory ledger state that stays consistent within itself (balances, sequence numbers,
sub-entry counts, ``last_modified``), so the generated meta reads like core's; it is not a replay by
stellar-core.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field

from stellar_sdk import Asset, Keypair, xdr

from beam_pipeline.xdr.ledger import network_id

TOTAL_COINS = 100_000_000_000 * 10**7
BASE_RESERVE = 5_000_000
INT64_MAX = 2**63 - 1
_AUTHORIZED_FLAG = 1

_T = xdr.LedgerEntryType
_C = xdr.LedgerEntryChangeType


def keypair(label: str) -> Keypair:
    """A fixed key per role, so the same arguments always give the same accounts and signatures."""
    return Keypair.from_raw_ed25519_seed(hashlib.sha256(f"beam_pipeline sample {label}".encode()).digest())


@dataclass
class SimAccount:
    keypair: Keypair
    balance: int
    seq: int
    created: int  # ledger that created it; an account only acts from the next ledger on
    sub_entries: int = 0
    last_modified: int = 0

    @property
    def address(self) -> str:
        return self.keypair.public_key

    def entry(self) -> xdr.LedgerEntry:
        acct = xdr.AccountEntry(
            account_id=self.keypair.xdr_account_id(),
            balance=xdr.Int64(self.balance),
            seq_num=xdr.SequenceNumber(xdr.Int64(self.seq)),
            num_sub_entries=xdr.Uint32(self.sub_entries),
            inflation_dest=None,
            flags=xdr.Uint32(0),
            home_domain=xdr.String32(b""),
            thresholds=xdr.Thresholds(b"\x01\x00\x00\x00"),
            signers=[],
            ext=xdr.AccountEntryExt(0),
        )
        return _ledger_entry(self.last_modified, xdr.LedgerEntryData(_T.ACCOUNT, account=acct))


@dataclass
class Trustline:
    owner: SimAccount
    asset: Asset
    created: int
    balance: int = 0
    limit: int = INT64_MAX
    last_modified: int = 0

    def entry(self) -> xdr.LedgerEntry:
        base = self.asset.to_xdr_object()
        line = xdr.TrustLineEntry(
            account_id=self.owner.keypair.xdr_account_id(),
            asset=xdr.TrustLineAsset(base.type, alpha_num4=base.alpha_num4),
            balance=xdr.Int64(self.balance),
            limit=xdr.Int64(self.limit),
            flags=xdr.Uint32(_AUTHORIZED_FLAG),
            ext=xdr.TrustLineEntryExt(0),
        )
        return _ledger_entry(self.last_modified, xdr.LedgerEntryData(_T.TRUSTLINE, trust_line=line))


@dataclass
class Offer:
    offer_id: int
    seller: SimAccount
    selling: Asset
    buying: Asset
    amount: int
    price: tuple[int, int]  # buying units per selling unit, as n/d
    created: int
    last_modified: int = 0

    def xdr_offer(self) -> xdr.OfferEntry:
        return xdr.OfferEntry(
            seller_id=self.seller.keypair.xdr_account_id(),
            offer_id=xdr.Int64(self.offer_id),
            selling=self.selling.to_xdr_object(),
            buying=self.buying.to_xdr_object(),
            amount=xdr.Int64(self.amount),
            price=xdr.Price(xdr.Int32(self.price[0]), xdr.Int32(self.price[1])),
            flags=xdr.Uint32(0),
            ext=xdr.OfferEntryExt(0),
        )

    def entry(self) -> xdr.LedgerEntry:
        return _ledger_entry(self.last_modified, xdr.LedgerEntryData(_T.OFFER, offer=self.xdr_offer()))


def _ledger_entry(last_modified: int, data: xdr.LedgerEntryData) -> xdr.LedgerEntry:
    return xdr.LedgerEntry(xdr.Uint32(last_modified), data, xdr.LedgerEntryExt(0))


class Changes(list):
    """LedgerEntryChange list builder that also stamps ``last_modified`` the way core does."""

    def __init__(self, seq: int):
        super().__init__()
        self.seq = seq

    def touch(self, obj: SimAccount | Trustline | Offer, mutate: Callable[[], None]) -> None:
        self.append(xdr.LedgerEntryChange(_C.LEDGER_ENTRY_STATE, state=obj.entry()))
        mutate()
        obj.last_modified = self.seq
        self.append(xdr.LedgerEntryChange(_C.LEDGER_ENTRY_UPDATED, updated=obj.entry()))

    def create(self, obj: SimAccount | Trustline | Offer) -> None:
        obj.last_modified = self.seq
        self.append(xdr.LedgerEntryChange(_C.LEDGER_ENTRY_CREATED, created=obj.entry()))

    def remove_offer(self, offer: Offer) -> None:
        self.append(xdr.LedgerEntryChange(_C.LEDGER_ENTRY_STATE, state=offer.entry()))
        key = xdr.LedgerKeyOffer(offer.seller.keypair.xdr_account_id(), xdr.Int64(offer.offer_id))
        self.append(xdr.LedgerEntryChange(_C.LEDGER_ENTRY_REMOVED, removed=xdr.LedgerKey(_T.OFFER, offer=key)))

    def xdr(self) -> xdr.LedgerEntryChanges:
        return xdr.LedgerEntryChanges(list(self))


@dataclass
class World:
    """Ledger state plus the deterministic choices of which accounts act next."""

    passphrase: str
    accounts: list[SimAccount] = field(default_factory=list)
    trustlines: dict[str, Trustline] = field(default_factory=dict)
    offers: list[Offer] = field(default_factory=list)
    id_pool: int = 0
    fee_pool: int = 0
    turn: int = 0  # round-robin position for pick()
    step: int = 0  # position in actions.SCHEDULE
    created_users: int = 0

    def __post_init__(self) -> None:
        # Like a real standalone network, the root account's key is seeded by the network id.
        self.root = SimAccount(Keypair.from_raw_ed25519_seed(network_id(self.passphrase)), TOTAL_COINS, 0, created=1)
        self.issuer: SimAccount | None = None
        self.asset: Asset | None = None

    def pick(self, candidates: list) -> object | None:
        """Round-robin over candidates so every account gets its turn, deterministically."""
        if not candidates:
            return None
        self.turn += 1
        return candidates[self.turn % len(candidates)]

    def users(self, seq: int) -> list[SimAccount]:
        return [a for a in self.accounts if a.created < seq]

    def trusted(self, seq: int) -> list[Trustline]:
        return [t for t in self.trustlines.values() if t.created < seq]

    def untrusted(self, seq: int) -> list[SimAccount]:
        return [a for a in self.users(seq) if a.address not in self.trustlines]

    def snapshot(self) -> list[tuple[object, dict]]:
        """The accounts' and trustlines' fields, for restore() after a failed transaction."""
        objs = [*self.accounts, *self.trustlines.values(), self.root] + ([self.issuer] if self.issuer else [])
        return [(o, dict(vars(o))) for o in objs]

    @staticmethod
    def restore(snapshot: list[tuple[object, dict]]) -> None:
        for obj, saved in snapshot:
            vars(obj).update(saved)
