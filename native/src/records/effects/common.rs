//! What every effect family needs (the twin of `beam_pipeline/records/effects/_common.py`): effect types, the
//! per-operation accumulator, errors, and the value forms (amounts, assets, claims, pools).
//!
//! As in the reference, the order of `add` calls in the family modules *is* the output.

use stellar_xdr::curr::{
    AccountId, Asset, ClaimAtom, LedgerEntry, LedgerEntryData, LedgerEntryType, LiquidityPoolEntry,
    LiquidityPoolEntryBody, MuxedAccount, OperationResult, OperationResultTr, PublicKey,
};

use crate::records::operations::changes::{sponsoring_id, Change};
pub use crate::records::operations::common::{value_error, Fail, OpContext, Res};
use crate::strkey;
use crate::util::assets::{canonical_asset, extract_asset, pool_id_hex};
use crate::util::pyjson::{Details, Val};

macro_rules! effect_types {
    ($($name:ident = $value:expr, $text:expr;)*) => {
        /// stellar-etl's effect type numbers; `type_string` is the lower-case name.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum E {
            $($name = $value,)*
        }

        impl E {
            pub fn type_string(self) -> &'static str {
                match self {
                    $(E::$name => $text,)*
                }
            }
        }
    };
}

effect_types! {
    AccountCreated = 0, "account_created";
    AccountRemoved = 1, "account_removed";
    AccountCredited = 2, "account_credited";
    AccountDebited = 3, "account_debited";
    AccountThresholdsUpdated = 4, "account_thresholds_updated";
    AccountHomeDomainUpdated = 5, "account_home_domain_updated";
    AccountFlagsUpdated = 6, "account_flags_updated";
    AccountInflationDestinationUpdated = 7, "account_inflation_destination_updated";
    SignerCreated = 10, "signer_created";
    SignerRemoved = 11, "signer_removed";
    SignerUpdated = 12, "signer_updated";
    TrustlineCreated = 20, "trustline_created";
    TrustlineRemoved = 21, "trustline_removed";
    TrustlineUpdated = 22, "trustline_updated";
    TrustlineFlagsUpdated = 26, "trustline_flags_updated";
    OfferCreated = 30, "offer_created";
    OfferRemoved = 31, "offer_removed";
    OfferUpdated = 32, "offer_updated";
    Trade = 33, "trade";
    DataCreated = 40, "data_created";
    DataRemoved = 41, "data_removed";
    DataUpdated = 42, "data_updated";
    SequenceBumped = 43, "sequence_bumped";
    ClaimableBalanceCreated = 50, "claimable_balance_created";
    ClaimableBalanceClaimantCreated = 51, "claimable_balance_claimant_created";
    ClaimableBalanceClaimed = 52, "claimable_balance_claimed";
    AccountSponsorshipCreated = 60, "account_sponsorship_created";
    AccountSponsorshipUpdated = 61, "account_sponsorship_updated";
    AccountSponsorshipRemoved = 62, "account_sponsorship_removed";
    TrustlineSponsorshipCreated = 63, "trustline_sponsorship_created";
    TrustlineSponsorshipUpdated = 64, "trustline_sponsorship_updated";
    TrustlineSponsorshipRemoved = 65, "trustline_sponsorship_removed";
    DataSponsorshipCreated = 66, "data_sponsorship_created";
    DataSponsorshipUpdated = 67, "data_sponsorship_updated";
    DataSponsorshipRemoved = 68, "data_sponsorship_removed";
    ClaimableBalanceSponsorshipCreated = 69, "claimable_balance_sponsorship_created";
    ClaimableBalanceSponsorshipUpdated = 70, "claimable_balance_sponsorship_updated";
    ClaimableBalanceSponsorshipRemoved = 71, "claimable_balance_sponsorship_removed";
    SignerSponsorshipCreated = 72, "signer_sponsorship_created";
    SignerSponsorshipUpdated = 73, "signer_sponsorship_updated";
    SignerSponsorshipRemoved = 74, "signer_sponsorship_removed";
    ClaimableBalanceClawedBack = 80, "claimable_balance_clawed_back";
    LiquidityPoolDeposited = 90, "liquidity_pool_deposited";
    LiquidityPoolWithdrew = 91, "liquidity_pool_withdrew";
    LiquidityPoolTrade = 92, "liquidity_pool_trade";
    LiquidityPoolCreated = 93, "liquidity_pool_created";
    LiquidityPoolRemoved = 94, "liquidity_pool_removed";
    LiquidityPoolRevoked = 95, "liquidity_pool_revoked";
    ContractCredited = 96, "contract_credited";
    ContractDebited = 97, "contract_debited";
    ExtendFootprintTtl = 98, "extend_footprint_ttl";
    RestoreFootprint = 99, "restore_footprint";
}

/// A details map of the given entries (a dict literal: later duplicates win).
pub fn obj<const N: usize>(entries: [(&'static str, Val); N]) -> Details {
    let mut d = Details::new();
    for (k, v) in entries {
        d.set(k, v);
    }
    d
}

/// One effect before the ledger fields are attached.
pub struct Effect {
    pub address: String,
    pub address_muxed: Option<String>,
    pub kind: E,
    pub details: Details,
}

/// Python's AttributeError of reading `attr` of None (what the reference raises on a missing union arm).
pub fn none_attr(attr: &str) -> Fail {
    Fail::Py("AttributeError", format!("'NoneType' object has no attribute '{attr}'"))
}

/// The effects of one operation, in the order stellar-etl appends them.
pub struct Fx<'a, 'b> {
    pub ctx: &'b OpContext<'a, 'b>,
    /// The operation's source account.
    pub source: MuxedAccount,
    pub items: Vec<Effect>,
}

impl<'a, 'b> Fx<'a, 'b> {
    pub fn add(&mut self, address: String, kind: E, details: Details, muxed: Option<String>) {
        self.items.push(Effect {
            address,
            address_muxed: muxed,
            kind,
            details,
        });
    }

    /// An effect on a plain account (`address_muxed` null).
    pub fn add_account_id(&mut self, account: &AccountId, kind: E, details: Details) {
        self.add(strkey::account_id(account), kind, details, None);
    }

    /// An effect on a possibly multiplexed account.
    pub fn add_muxed(&mut self, account: &MuxedAccount, kind: E, details: Details) {
        self.add(strkey::account(account), kind, details, strkey::muxed(account));
    }

    /// An effect on the operation's source account.
    pub fn add_source(&mut self, kind: E, details: Details) {
        let source = &self.source;
        self.add(strkey::account(source), kind, details, strkey::muxed(source));
    }

    pub fn changes(&self) -> Res<&'b [Change<'a>]> {
        let ctx: &'b OpContext<'a, 'b> = self.ctx;
        ctx.changes()
    }

    /// The operation's result body (only successful transactions get here).
    pub fn tr(&self) -> Res<&'a OperationResultTr> {
        match self.ctx.result()? {
            Some(OperationResult::OpInner(tr)) => Ok(tr),
            _ => Err(self
                .ctx
                .error("successful transaction without an operation result body".to_string())),
        }
    }
}

// --- value forms ---------------------------------------------------------------------------------------------

/// Go's `amount.String`: stroops as a 7-decimal string (the reference's `amount`).
pub use crate::records::operations::common::amount_string as amount;

/// The key triple of `add_asset` under a prefix.
pub struct AssetKeys {
    pub kind: &'static str,
    pub code: &'static str,
    pub issuer: &'static str,
}

pub const PLAIN: AssetKeys = AssetKeys {
    kind: "asset_type",
    code: "asset_code",
    issuer: "asset_issuer",
};
pub const BOUGHT: AssetKeys = AssetKeys {
    kind: "bought_asset_type",
    code: "bought_asset_code",
    issuer: "bought_asset_issuer",
};
pub const SOLD: AssetKeys = AssetKeys {
    kind: "sold_asset_type",
    code: "sold_asset_code",
    issuer: "sold_asset_issuer",
};

/// stellar-etl's effects `addAssetDetails`: type, and code/issuer unless native.
pub fn add_asset(details: &mut Details, asset: &Asset, keys: &AssetKeys) {
    let (kind, code, issuer) = extract_asset(asset);
    details.set(keys.kind, kind);
    if !matches!(asset, Asset::Native) {
        details.set(keys.code, code);
        details.set(keys.issuer, issuer);
    }
}

/// Go's `MuxedAccount.ToAccountId`.
pub fn muxed_account_id(account: &MuxedAccount) -> AccountId {
    let key = match account {
        MuxedAccount::Ed25519(k) => k.clone(),
        MuxedAccount::MuxedEd25519(m) => m.ed25519.clone(),
    };
    AccountId(PublicKey::PublicKeyTypeEd25519(key))
}

/// The sponsoring account of an entry as a strkey, None when unsponsored or absent.
pub fn sponsor_of(entry: Option<&LedgerEntry>) -> Option<String> {
    entry.and_then(sponsoring_id).map(strkey::account_id)
}

// --- claim atoms ---------------------------------------------------------------------------------------------

/// One ClaimAtom as the Go accessors read it.
pub struct Claim<'a> {
    /// None for a liquidity-pool claim.
    pub seller: Option<AccountId>,
    pub offer_id: i64,
    pub asset_sold: &'a Asset,
    pub amount_sold: i64,
    pub asset_bought: &'a Asset,
    pub amount_bought: i64,
    pub pool_id: Option<&'a [u8; 32]>,
}

pub fn read_claim(atom: &ClaimAtom) -> Claim<'_> {
    // The three atom types share the traded fields; only who sold (and which offer or pool) differs.
    macro_rules! claim {
        ($a:expr, $seller:expr, $offer_id:expr, $pool_id:expr) => {
            Claim {
                seller: $seller,
                offer_id: $offer_id,
                asset_sold: &$a.asset_sold,
                amount_sold: $a.amount_sold,
                asset_bought: &$a.asset_bought,
                amount_bought: $a.amount_bought,
                pool_id: $pool_id,
            }
        };
    }
    match atom {
        ClaimAtom::V0(a) => {
            let seller = AccountId(PublicKey::PublicKeyTypeEd25519(a.seller_ed25519.clone()));
            claim!(a, Some(seller), a.offer_id, None)
        }
        ClaimAtom::OrderBook(a) => claim!(a, Some(a.seller_id.clone()), a.offer_id, None),
        ClaimAtom::LiquidityPool(a) => claim!(a, None, 0, Some(&a.liquidity_pool_id.0 .0)),
    }
}

// --- liquidity pools -----------------------------------------------------------------------------------------

/// A pool entry (post state if any, else pre) and its reserve/share deltas within an operation.
pub struct PoolChange<'a> {
    pub entry: &'a LiquidityPoolEntry,
    pub reserve_a: i128,
    pub reserve_b: i128,
    pub shares: i128,
}

fn pool_of(entry: &LedgerEntry) -> Option<&LiquidityPoolEntry> {
    match &entry.data {
        LedgerEntryData::LiquidityPool(p) => Some(p),
        _ => None,
    }
}

/// stellar-etl's `getLiquidityPoolAndProductDelta`: the first pool change (of `pool_id` if given).
pub fn pool_change<'a>(changes: &[Change<'a>], pool_id: Option<&[u8; 32]>) -> Option<PoolChange<'a>> {
    for change in changes {
        if change.entry_type != LedgerEntryType::LiquidityPool {
            continue;
        }
        let mut entry = None;
        let (mut pre, mut post) = ((0i128, 0i128, 0i128), (0i128, 0i128, 0i128));
        let mut skip = false;
        for (side, target) in [(change.pre, &mut pre), (change.post, &mut post)] {
            let Some(pool) = side.and_then(pool_of) else { continue };
            if pool_id.is_some_and(|id| pool.liquidity_pool_id.0 .0 != *id) {
                skip = true;
                break;
            }
            entry = Some(pool);
            let LiquidityPoolEntryBody::LiquidityPoolConstantProduct(cp) = &pool.body;
            *target = (cp.reserve_a as i128, cp.reserve_b as i128, cp.total_pool_shares as i128);
        }
        if skip {
            continue;
        }
        let entry = entry?;
        return Some(PoolChange {
            entry,
            reserve_a: post.0 - pre.0,
            reserve_b: post.1 - pre.1,
            shares: post.2 - pre.2,
        });
    }
    None
}

pub fn pool_assets(entry: &LiquidityPoolEntry) -> (String, String) {
    let LiquidityPoolEntryBody::LiquidityPoolConstantProduct(cp) = &entry.body;
    (canonical_asset(&cp.params.asset_a), canonical_asset(&cp.params.asset_b))
}

/// stellar-etl's `liquidityPoolDetails`.
pub fn pool_details(entry: &LiquidityPoolEntry) -> Details {
    let LiquidityPoolEntryBody::LiquidityPoolConstantProduct(cp) = &entry.body;
    let (asset_a, asset_b) = pool_assets(entry);
    obj([
        ("id", pool_id_hex(&entry.liquidity_pool_id.0 .0).into()),
        ("fee_bp", cp.params.fee.into()),
        ("type", "constant_product".into()),
        ("total_trustlines", cp.pool_shares_trust_line_count.to_string().into()),
        ("total_shares", amount(cp.total_pool_shares as i128).into()),
        (
            "reserves",
            Val::List(vec![
                asset_amount(asset_a, cp.reserve_a as i128),
                asset_amount(asset_b, cp.reserve_b as i128),
            ]),
        ),
    ])
}

/// `{"asset": ..., "amount": ...}`.
pub fn asset_amount(asset: String, value: i128) -> Val {
    Val::Obj(obj([("asset", asset.into()), ("amount", amount(value).into())]))
}
