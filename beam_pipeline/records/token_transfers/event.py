"""One token transfer event, and the rules every producer of events shares.

The reference is the Go SDK's token transfer processor (``processors/token_transfer``), which
stellar-etl's ``TransformTokenTransfer`` turns into rows. An event moves an amount of one asset
between two holders: accounts (``G...``), contracts (``C...``), claimable balances (``B...``) and
liquidity pools (``L...``), all given as strkeys. Which of the five kinds an event is follows the
reference's `mint_burn_or_transfer`: value leaving an asset's issuer is minted, value reaching it
is burned, anything else is a transfer.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache

from stellar_sdk import MuxedAccount, StrKey, xdr

from beam_pipeline.util.assets import asset_contract_id, extract_asset
from beam_pipeline.util.strkey import account_strkey, contract_strkey
from beam_pipeline.xdr.ledger import LedgerView, TxView

TRANSFER = "transfer"
MINT = "mint"
BURN = "burn"
CLAWBACK = "clawback"
FEE = "fee"

NATIVE_ASSET = xdr.Asset(type=xdr.AssetType.ASSET_TYPE_NATIVE)


class TokenTransferError(ValueError):
    """Meta that the reference processor rejects; the message names the ledger and transaction."""


@dataclass(frozen=True)
class MuxedInfo:
    """Where inside an account a transfer landed (CAP-67 ``to_muxed_id``): an id, a text or a hash.

    stellar-etl reads only the id arm (protobuf's ``GetId`` is 0 for the others), so a text or
    hash memo yields ``to_muxed_id`` "0"; `id` is that value.
    """

    kind: str  # "id", "text" or "hash"
    id: int = 0


@dataclass
class TokenEvent:
    """One event as the reference processor emits it.

    Attributes:
        kind: transfer, mint, burn, clawback or fee.
        sender: ``from`` (None for mints).
        receiver: ``to`` (None for burns, clawbacks and fees).
        amount: in the token's smallest unit; negative for a fee refund. i128 for contract tokens.
        asset: the classic asset, or None for a contract token that is not a Stellar Asset Contract.
        contract_id: ``C...`` of the token contract (the asset's SAC for classic movements).
        op_index: 1-based operation index, None for fees.
        to_muxed: the destination's muxed information, if any.
    """

    kind: str
    sender: str | None
    receiver: str | None
    amount: int
    asset: xdr.Asset | None
    contract_id: str
    op_index: int | None
    to_muxed: MuxedInfo | None = None


@dataclass
class TxContext:
    """A transaction in its ledger, with what the event producers ask for more than once."""

    ledger: LedgerView
    tx: TxView

    def where(self, op_index: int | None = None) -> str:
        place = f"ledger {self.ledger.sequence} tx {self.tx.hash_hex}"
        return place if op_index is None else f"{place} operation {op_index}"

    def sac_id(self, asset: xdr.Asset) -> str:
        """``C...`` of the asset's Stellar Asset Contract on this network."""
        return _sac_strkey(asset.to_xdr_bytes(), self.ledger.network_passphrase)

    @cached_property
    def inner_tx(self) -> xdr.Transaction | xdr.TransactionV0:
        return self.tx.inner_envelope.tx

    @cached_property
    def source(self) -> str:
        """The (inner) transaction's source as a strkey (``M...`` when muxed)."""
        inner = self.inner_tx
        if isinstance(inner, xdr.TransactionV0):
            return account_strkey(inner.source_account_ed25519.uint256)
        return muxed_strkey(inner.source_account)

    def op_source(self, op: xdr.Operation) -> str:
        return self.source if op.source_account is None else muxed_strkey(op.source_account)

    @cached_property
    def is_soroban(self) -> bool:
        """Whether the (inner) envelope carries Soroban transaction data."""
        inner = self.inner_tx
        return not isinstance(inner, xdr.TransactionV0) and inner.ext.v == 1

    def memo_muxed_info(self) -> MuxedInfo | None:
        """The destination information CAP-67 takes from the transaction memo."""
        memo = self.inner_tx.memo
        t = memo.type
        if t == xdr.MemoType.MEMO_NONE:
            return None
        if t == xdr.MemoType.MEMO_ID:
            return MuxedInfo("id", memo.id.uint64)
        if t == xdr.MemoType.MEMO_TEXT:
            return MuxedInfo("text")
        return MuxedInfo("hash")


@lru_cache(maxsize=4096)
def _sac_strkey(asset_xdr: bytes, network_passphrase: str) -> str:
    """Every event names its asset's contract; hashing the preimage once per asset and network is enough."""
    return contract_strkey(asset_contract_id(xdr.Asset.from_xdr_bytes(asset_xdr), network_passphrase))


def muxed_strkey(account: xdr.MuxedAccount) -> str:
    """``G...`` of a plain account, ``M...`` of a multiplexed one."""
    if account.type == xdr.CryptoKeyType.KEY_TYPE_MUXED_ED25519:
        med = account.med25519
        return StrKey.encode_med25519_public_key(med.ed25519.uint256 + med.id.uint64.to_bytes(8, "big"))
    return account_strkey(account.ed25519.uint256)


def is_account(address: str) -> bool:
    return address[:1] in ("G", "M")


def base_account(address: str) -> str:
    """The ``G...`` behind an ``M...`` address (other addresses unchanged)."""
    if address.startswith("M"):
        return MuxedAccount.from_account(address).account_id
    return address


def destination_muxed_info(ctx: TxContext, to: str) -> MuxedInfo | None:
    """CAP-67's destination information: a muxed id of an ``M...`` destination, else the memo.

    Only accounts carry it (not pools, claimable balances or contracts).
    """
    if not is_account(to):
        return None
    if to.startswith("M"):
        return MuxedInfo("id", MuxedAccount.from_account(to).account_muxed_id)
    return ctx.memo_muxed_info()


def issuer_of(asset: xdr.Asset) -> str | None:
    if asset.type == xdr.AssetType.ASSET_TYPE_NATIVE:
        return None
    return extract_asset(asset)[2]


def mint_burn_or_transfer(
    ctx: TxContext,
    op_index: int | None,
    asset: xdr.Asset,
    sender: str,
    receiver: str,
    amount: int,
    include_muxed: bool,
) -> TokenEvent:
    """A movement from `sender` to `receiver`, classified by who issues `asset`.

    Account addresses are reported as ``G...`` even when given muxed. A payment from the issuer
    to itself is a transfer (CAP-67), one from the issuer a mint, one to the issuer a burn.
    """
    issuer = issuer_of(asset)
    from_address = base_account(sender) if is_account(sender) else sender
    to_address = base_account(receiver) if is_account(receiver) else receiver
    from_issuer = issuer is not None and is_account(sender) and from_address == issuer
    to_issuer = issuer is not None and is_account(receiver) and to_address == issuer
    contract = ctx.sac_id(asset)
    if from_issuer and not to_issuer:
        muxed = destination_muxed_info(ctx, receiver) if include_muxed else None
        return TokenEvent(MINT, None, to_address, amount, asset, contract, op_index, muxed)
    if to_issuer and not from_issuer:
        return TokenEvent(BURN, from_address, None, amount, asset, contract, op_index)
    muxed = destination_muxed_info(ctx, receiver) if include_muxed else None
    return TokenEvent(TRANSFER, from_address, to_address, amount, asset, contract, op_index, muxed)
