//! One token transfer event, and the rules every producer of events shares
//! (reference: `beam_pipeline/records/token_transfers/event.py`).
//!
//! Holders are kept as raw keys (`Addr`) and written as strkeys only when a row is appended: the Python
//! reference compares strkey strings, and strkey encoding is injective, so comparing the keys is the same.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use stellar_xdr::curr::{Asset, Memo, MuxedAccount, Operation, ScAddress, TransactionEnvelope, TransactionV0};

use crate::ledger::Tx;
use crate::strkey;
use crate::util::assets::{asset_contract_id, pool_id_strkey, CLAIMABLE_BALANCE_VERSION};

/// The event's topic (the `event_topic` column).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    Transfer,
    Mint,
    Burn,
    Clawback,
    Fee,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Transfer => "transfer",
            Kind::Mint => "mint",
            Kind::Burn => "burn",
            Kind::Clawback => "clawback",
            Kind::Fee => "fee",
        }
    }
}

/// A holder of value: account (`G`), multiplexed account (`M`), contract (`C`), claimable balance (`B`) or
/// liquidity pool (`L`).
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub enum Addr {
    Account([u8; 32]),
    Muxed([u8; 32], u64),
    Contract([u8; 32]),
    Balance([u8; 32]),
    Pool([u8; 32]),
}

impl Addr {
    pub fn strkey(&self) -> String {
        match self {
            Addr::Account(k) => strkey::encode(strkey::ACCOUNT_ID, k),
            Addr::Muxed(k, id) => {
                let mut raw = [0u8; 40];
                raw[..32].copy_from_slice(k);
                raw[32..].copy_from_slice(&id.to_be_bytes());
                strkey::encode(strkey::MUXED_ACCOUNT, &raw)
            }
            Addr::Contract(h) => strkey::encode(strkey::CONTRACT, h),
            Addr::Balance(h) => {
                // The B... payload is the one-byte id type (V0) followed by the hash (SEP-23).
                let mut raw = [0u8; 33];
                raw[1..].copy_from_slice(h);
                strkey::encode(CLAIMABLE_BALANCE_VERSION, &raw)
            }
            Addr::Pool(h) => pool_id_strkey(h),
        }
    }

    pub fn is_account(&self) -> bool {
        matches!(self, Addr::Account(_) | Addr::Muxed(..))
    }

    /// The `G...` behind an `M...` address (other addresses unchanged).
    pub fn base(self) -> Addr {
        match self {
            Addr::Muxed(k, _) => Addr::Account(k),
            other => other,
        }
    }

    pub fn of_muxed(account: &MuxedAccount) -> Addr {
        match account {
            MuxedAccount::Ed25519(k) => Addr::Account(k.0),
            MuxedAccount::MuxedEd25519(m) => Addr::Muxed(m.ed25519.0, m.id),
        }
    }

    pub fn of_account_id(id: &stellar_xdr::curr::AccountId) -> Addr {
        let stellar_xdr::curr::PublicKey::PublicKeyTypeEd25519(k) = &id.0;
        Addr::Account(k.0)
    }

    pub fn of_balance_id(id: &stellar_xdr::curr::ClaimableBalanceId) -> Addr {
        let stellar_xdr::curr::ClaimableBalanceId::ClaimableBalanceIdTypeV0(h) = id;
        Addr::Balance(h.0)
    }

    pub fn of_sc_address(a: &ScAddress) -> Addr {
        match a {
            ScAddress::Account(id) => Addr::of_account_id(id),
            ScAddress::Contract(c) => Addr::Contract(c.0 .0),
            ScAddress::MuxedAccount(m) => Addr::Muxed(m.ed25519.0, m.id),
            ScAddress::ClaimableBalance(id) => Addr::of_balance_id(id),
            ScAddress::LiquidityPool(p) => Addr::Pool(p.0 .0),
        }
    }
}

/// One event as the reference processor emits it (`TokenEvent`).
///
/// `to_muxed` is CAP-67's destination information as stellar-etl reads it: only the id arm counts, so a text
/// or hash memo is `Some(0)`.
#[derive(Clone, Debug)]
pub struct TokenEvent {
    pub kind: Kind,
    pub sender: Option<Addr>,
    pub receiver: Option<Addr>,
    pub amount: i128,
    pub asset: Option<Asset>,
    pub contract_id: Rc<str>,
    pub op_index: Option<u32>,
    pub to_muxed: Option<u64>,
}

/// Why a transaction's events cannot be built.
pub enum TtError {
    /// A `TokenTransferError` whose message already names the ledger and transaction.
    Token(String),
    /// A ValueError of a helper that does not know where it is; the caller prefixes the place.
    Value(String),
    /// Another exception the reference meets on meta it does not expect (class name, message).
    Other(&'static str, String),
}

pub type TtResult<T> = Result<T, TtError>;

/// The contract strkeys a ledger's events name (every event names one), each computed once: the Stellar
/// Asset Contract of each asset (a SHA-256 and a strkey) and the `C...` of each emitting contract.
pub struct SacCache {
    network_id: [u8; 32],
    ids: RefCell<HashMap<Asset, Rc<str>>>,
    contracts: RefCell<HashMap<[u8; 32], Rc<str>>>,
}

impl SacCache {
    pub fn new(network_id: [u8; 32]) -> Self {
        SacCache {
            network_id,
            ids: RefCell::new(HashMap::new()),
            contracts: RefCell::new(HashMap::new()),
        }
    }

    /// `C...` of a contract id.
    pub fn contract(&self, hash: &[u8; 32]) -> Rc<str> {
        if let Some(id) = self.contracts.borrow().get(hash) {
            return id.clone();
        }
        let id: Rc<str> = strkey::encode(strkey::CONTRACT, hash).into();
        self.contracts.borrow_mut().insert(*hash, id.clone());
        id
    }

    /// `C...` of the asset's Stellar Asset Contract on this network.
    pub fn get(&self, asset: &Asset) -> Rc<str> {
        if let Some(id) = self.ids.borrow().get(asset) {
            return id.clone();
        }
        // Hashing an asset decoded from the ledger cannot fail (its XDR encodes without limits).
        let hash = asset_contract_id(asset, &self.network_id).unwrap_or_default();
        let id: Rc<str> = strkey::encode(strkey::CONTRACT, &hash).into();
        self.ids.borrow_mut().insert(asset.clone(), id.clone());
        id
    }
}

/// The transaction that carries the operations (the inner one of a fee bump).
pub enum Inner<'a> {
    V0(&'a TransactionV0),
    V1(&'a stellar_xdr::curr::Transaction),
}

impl<'a> Inner<'a> {
    pub fn of(env: &'a TransactionEnvelope) -> Self {
        match env {
            TransactionEnvelope::TxV0(e) => Inner::V0(&e.tx),
            TransactionEnvelope::Tx(e) => Inner::V1(&e.tx),
            TransactionEnvelope::TxFeeBump(e) => match &e.tx.inner_tx {
                stellar_xdr::curr::FeeBumpTransactionInnerTx::Tx(i) => Inner::V1(&i.tx),
            },
        }
    }

    pub fn memo(&self) -> &'a Memo {
        match self {
            Inner::V0(t) => &t.memo,
            Inner::V1(t) => &t.memo,
        }
    }

    pub fn operations(&self) -> &'a [Operation] {
        match self {
            Inner::V0(t) => t.operations.as_slice(),
            Inner::V1(t) => t.operations.as_slice(),
        }
    }
}

/// A transaction in its ledger, with what the event producers ask for more than once (`TxContext`).
pub struct TxContext<'a, 'c> {
    pub sequence: u32,
    pub protocol: u32,
    pub tx: &'c Tx<'a>,
    pub inner: Inner<'a>,
    pub hash_hex: &'c str,
    /// The (inner) transaction's source (`M...` when muxed).
    pub source: Addr,
    sacs: &'c SacCache,
}

impl<'a, 'c> TxContext<'a, 'c> {
    pub fn new(sequence: u32, protocol: u32, tx: &'c Tx<'a>, hash_hex: &'c str, sacs: &'c SacCache) -> Self {
        let inner = Inner::of(tx.envelope);
        let source = match &inner {
            Inner::V0(t) => Addr::Account(t.source_account_ed25519.0),
            Inner::V1(t) => Addr::of_muxed(&t.source_account),
        };
        TxContext {
            sequence,
            protocol,
            tx,
            inner,
            hash_hex,
            source,
            sacs,
        }
    }

    pub fn place(&self) -> String {
        format!("ledger {} tx {}", self.sequence, self.hash_hex)
    }

    pub fn place_op(&self, op_index: u32) -> String {
        format!("{} operation {op_index}", self.place())
    }

    pub fn sac_id(&self, asset: &Asset) -> Rc<str> {
        self.sacs.get(asset)
    }

    pub fn contract_strkey(&self, hash: &[u8; 32]) -> Rc<str> {
        self.sacs.contract(hash)
    }

    pub fn op_source(&self, op: &Operation) -> Addr {
        match &op.source_account {
            None => self.source.clone(),
            Some(m) => Addr::of_muxed(m),
        }
    }

    /// Whether the (inner) envelope carries Soroban transaction data.
    pub fn is_soroban(&self) -> bool {
        match &self.inner {
            Inner::V0(_) => false,
            Inner::V1(t) => matches!(t.ext, stellar_xdr::curr::TransactionExt::V1(_)),
        }
    }

    /// The destination information CAP-67 takes from the transaction memo (only the id arm has a value).
    pub fn memo_muxed_info(&self) -> Option<u64> {
        match self.inner.memo() {
            Memo::None => None,
            Memo::Id(id) => Some(*id),
            Memo::Text(_) | Memo::Hash(_) | Memo::Return(_) => Some(0),
        }
    }
}

/// CAP-67's destination information: the id of an `M...` destination, else the memo; only accounts carry it.
pub fn destination_muxed_info(ctx: &TxContext<'_, '_>, to: &Addr) -> Option<u64> {
    match to {
        Addr::Muxed(_, id) => Some(*id),
        Addr::Account(_) => ctx.memo_muxed_info(),
        _ => None,
    }
}

pub fn issuer_of(asset: &Asset) -> Option<[u8; 32]> {
    let id = match asset {
        Asset::Native => return None,
        Asset::CreditAlphanum4(a) => &a.issuer,
        Asset::CreditAlphanum12(a) => &a.issuer,
    };
    let stellar_xdr::curr::PublicKey::PublicKeyTypeEd25519(k) = &id.0;
    Some(k.0)
}

/// A movement from `sender` to `receiver`, classified by who issues `asset` (`mint_burn_or_transfer`).
///
/// Account addresses are reported as `G...` even when given muxed. A payment from the issuer to itself is a
/// transfer (CAP-67), one from the issuer a mint, one to the issuer a burn.
pub fn mint_burn_or_transfer(
    ctx: &TxContext<'_, '_>,
    op_index: u32,
    asset: &Asset,
    sender: Addr,
    receiver: Addr,
    amount: i128,
    include_muxed: bool,
) -> TokenEvent {
    let issuer = issuer_of(asset).map(Addr::Account);
    let sender_is_account = sender.is_account();
    let receiver_is_account = receiver.is_account();
    let muxed = if include_muxed {
        destination_muxed_info(ctx, &receiver)
    } else {
        None
    };
    let from = sender.base();
    let to = receiver.base();
    let from_issuer = sender_is_account && issuer.as_ref() == Some(&from);
    let to_issuer = receiver_is_account && issuer.as_ref() == Some(&to);
    let contract = ctx.sac_id(asset);
    let (kind, sender, receiver, to_muxed) = if from_issuer && !to_issuer {
        (Kind::Mint, None, Some(to), muxed)
    } else if to_issuer && !from_issuer {
        (Kind::Burn, Some(from), None, None)
    } else {
        (Kind::Transfer, Some(from), Some(to), muxed)
    };
    TokenEvent {
        kind,
        sender,
        receiver,
        amount,
        asset: Some(asset.clone()),
        contract_id: contract,
        op_index: Some(op_index),
        to_muxed,
    }
}
