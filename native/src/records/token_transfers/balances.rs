//! Movements into and out of claimable balances and liquidity pools, and clawbacks, read from the operation's
//! ledger-entry changes (reference: `beam_pipeline/records/token_transfers/balances.py`).

use std::collections::HashMap;

use sha2::{Digest, Sha256};
use stellar_xdr::curr::{
    AccountId, Asset, ClaimableBalanceEntry, ClaimableBalanceId, CreateClaimableBalanceResult, Hash, HashIdPreimage,
    HashIdPreimageRevokeId, LedgerEntryData, Limits, LiquidityPoolEntryBody, MuxedAccount, Operation, OperationBody,
    OperationResult, OperationResultTr, PoolId, PublicKey, Uint256, WriteXdr,
};

use super::event::{mint_burn_or_transfer, Addr, Inner, Kind, TokenEvent, TtError, TtResult, TxContext};
use super::payments::{missing, tr};
use crate::records::operations::changes::Change;

/// Claimable balances the operation created (`created`) or removed.
fn claimable_entries<'a>(changes: &[Change<'a>], created: bool) -> Vec<&'a ClaimableBalanceEntry> {
    let mut out = Vec::new();
    for c in changes {
        let entry = match (c.pre, c.post, created) {
            (None, Some(post), true) => post,
            (Some(pre), None, false) => pre,
            _ => continue,
        };
        if let LedgerEntryData::ClaimableBalance(cb) = &entry.data {
            out.push(cb);
        }
    }
    out
}

/// How much of each reserve of one pool an operation moved (absolute values).
struct PoolDelta<'a> {
    pool_id: [u8; 32],
    asset_a: &'a Asset,
    asset_b: &'a Asset,
    amount_a: i128,
    amount_b: i128,
}

impl PoolDelta<'_> {
    fn addr(&self) -> Addr {
        Addr::Pool(self.pool_id)
    }
}

fn pool_deltas<'a>(changes: &[Change<'a>]) -> Vec<PoolDelta<'a>> {
    let reserves = |e: Option<&'a stellar_xdr::curr::LedgerEntry>| match e.map(|e| &e.data) {
        Some(LedgerEntryData::LiquidityPool(lp)) => {
            let LiquidityPoolEntryBody::LiquidityPoolConstantProduct(cp) = &lp.body;
            Some((lp, cp))
        }
        _ => None,
    };
    let mut out = Vec::new();
    for c in changes {
        let (pre, post) = (reserves(c.pre), reserves(c.post));
        // The parameters of the entry after the operation, else before it (a removed pool).
        let Some((entry, cp)) = post.or(pre) else { continue };
        let (pre_a, pre_b) = pre.map_or((0, 0), |(_, p)| (p.reserve_a as i128, p.reserve_b as i128));
        let (post_a, post_b) = post.map_or((0, 0), |(_, p)| (p.reserve_a as i128, p.reserve_b as i128));
        out.push(PoolDelta {
            pool_id: entry.liquidity_pool_id.0 .0,
            asset_a: &cp.params.asset_a,
            asset_b: &cp.params.asset_b,
            amount_a: (post_a - pre_a).abs(),
            amount_b: (post_b - pre_b).abs(),
        });
    }
    out
}

fn token_error(ctx: &TxContext<'_, '_>, n: u32, what: String) -> TtError {
    TtError::Token(format!("{}: {what}", ctx.place_op(n)))
}

fn the_removed_balance<'a>(
    ctx: &TxContext<'_, '_>,
    n: u32,
    changes: &[Change<'a>],
) -> TtResult<&'a ClaimableBalanceEntry> {
    match claimable_entries(changes, false).as_slice() {
        [one] => Ok(one),
        other => Err(token_error(
            ctx,
            n,
            format!("{} claimable balances removed (expected 1)", other.len()),
        )),
    }
}

fn the_pool<'a>(ctx: &TxContext<'_, '_>, n: u32, changes: &[Change<'a>]) -> TtResult<PoolDelta<'a>> {
    let mut deltas = pool_deltas(changes);
    if deltas.len() != 1 {
        return Err(token_error(
            ctx,
            n,
            format!("{} liquidity pools changed (expected 1)", deltas.len()),
        ));
    }
    deltas.pop().ok_or_else(|| missing("pool"))
}

/// One operation's movements from the operation, its result and its changes; None for operations of other
/// kinds (whose changes need not be read).
pub fn reads_changes(op: &Operation) -> bool {
    matches!(
        op.body,
        OperationBody::CreateClaimableBalance(_)
            | OperationBody::ClaimClaimableBalance(_)
            | OperationBody::Clawback(_)
            | OperationBody::ClawbackClaimableBalance(_)
            | OperationBody::AllowTrust(_)
            | OperationBody::SetTrustLineFlags(_)
            | OperationBody::LiquidityPoolDeposit(_)
            | OperationBody::LiquidityPoolWithdraw(_)
    )
}

/// The movements of an operation `reads_changes` accepts.
pub fn from_changes(
    ctx: &TxContext<'_, '_>,
    n: u32,
    op: &Operation,
    result: &OperationResult,
    changes: &[Change<'_>],
) -> TtResult<Vec<TokenEvent>> {
    match &op.body {
        OperationBody::CreateClaimableBalance(body) => {
            let balance = match tr(result, "create_claimable_balance_result")? {
                OperationResultTr::CreateClaimableBalance(CreateClaimableBalanceResult::Success(id)) => id,
                _ => return Err(missing("type")),
            };
            Ok(vec![mint_burn_or_transfer(
                ctx,
                n,
                &body.asset,
                ctx.op_source(op),
                Addr::of_balance_id(balance),
                body.amount as i128,
                false,
            )])
        }
        OperationBody::ClaimClaimableBalance(body) => {
            let cb = the_removed_balance(ctx, n, changes)?;
            Ok(vec![mint_burn_or_transfer(
                ctx,
                n,
                &cb.asset,
                Addr::of_balance_id(&body.balance_id),
                ctx.op_source(op),
                cb.amount as i128,
                true,
            )])
        }
        OperationBody::Clawback(body) => Ok(vec![clawback(
            ctx,
            n,
            Addr::of_muxed(&body.from).base(),
            &body.asset,
            body.amount,
        )]),
        OperationBody::ClawbackClaimableBalance(body) => {
            let cb = the_removed_balance(ctx, n, changes)?;
            Ok(vec![clawback(
                ctx,
                n,
                Addr::of_balance_id(&body.balance_id),
                &cb.asset,
                cb.amount,
            )])
        }
        OperationBody::AllowTrust(_) | OperationBody::SetTrustLineFlags(_) => revoked_trust_line(ctx, n, changes),
        OperationBody::LiquidityPoolDeposit(_) => {
            let d = the_pool(ctx, n, changes)?;
            if d.amount_a <= 0 || d.amount_b <= 0 {
                return Err(token_error(
                    ctx,
                    n,
                    format!("deposit of nothing into pool {}", d.addr().strkey()),
                ));
            }
            let src = ctx.op_source(op);
            Ok(vec![
                mint_burn_or_transfer(ctx, n, d.asset_a, src.clone(), d.addr(), d.amount_a, false),
                mint_burn_or_transfer(ctx, n, d.asset_b, src, d.addr(), d.amount_b, false),
            ])
        }
        OperationBody::LiquidityPoolWithdraw(_) => {
            // A withdrawal may round to nothing: amounts of 0 are fine.
            let d = the_pool(ctx, n, changes)?;
            let src = ctx.op_source(op);
            Ok(vec![
                mint_burn_or_transfer(ctx, n, d.asset_a, d.addr(), src.clone(), d.amount_a, true),
                mint_burn_or_transfer(ctx, n, d.asset_b, d.addr(), src, d.amount_b, true),
            ])
        }
        _ => Ok(Vec::new()),
    }
}

fn clawback(ctx: &TxContext<'_, '_>, n: u32, sender: Addr, asset: &Asset, amount: i64) -> TokenEvent {
    TokenEvent {
        kind: Kind::Clawback,
        sender: Some(sender),
        receiver: None,
        amount: amount as i128,
        asset: Some(asset.clone()),
        contract_id: ctx.sac_id(asset),
        op_index: Some(n),
        to_muxed: None,
    }
}

/// The id CAP-38 gives the claimable balance created for `asset` when a pool share is revoked: it hashes the
/// *transaction* source (not the operation's), its sequence number and the 0-based operation index.
fn revocation_balance_id(ctx: &TxContext<'_, '_>, pool_id: &[u8; 32], asset: &Asset, op_number: u32) -> [u8; 32] {
    let (key, seq_num) = match &ctx.inner {
        Inner::V0(t) => (t.source_account_ed25519.0, t.seq_num.clone()),
        Inner::V1(t) => (
            match &t.source_account {
                MuxedAccount::Ed25519(k) => k.0,
                MuxedAccount::MuxedEd25519(m) => m.ed25519.0,
            },
            t.seq_num.clone(),
        ),
    };
    let preimage = HashIdPreimage::PoolRevokeOpId(HashIdPreimageRevokeId {
        source_account: AccountId(PublicKey::PublicKeyTypeEd25519(Uint256(key))),
        seq_num,
        op_num: op_number,
        liquidity_pool_id: PoolId(Hash(*pool_id)),
        asset: asset.clone(),
    });
    // Encoding a value built here from decoded parts cannot fail (no length limit applies).
    let bytes = preimage.to_xdr(Limits::none()).unwrap_or_default();
    Sha256::digest(&bytes).into()
}

/// allow_trust / set_trust_line_flags: pool shares withdrawn into claimable balances (CAP-38).
///
/// Per affected pool: two balances created means two transfers; one means the other asset went back to its
/// issuer (the trustor issues it), so a transfer and a burn of that asset.
fn revoked_trust_line(ctx: &TxContext<'_, '_>, n: u32, changes: &[Change<'_>]) -> TtResult<Vec<TokenEvent>> {
    let pools = pool_deltas(changes);
    if pools.is_empty() {
        return Ok(Vec::new());
    }
    let created: HashMap<[u8; 32], &ClaimableBalanceEntry> = claimable_entries(changes, true)
        .into_iter()
        .map(|cb| {
            let ClaimableBalanceId::ClaimableBalanceIdTypeV0(h) = &cb.balance_id;
            (h.0, cb)
        })
        .collect();
    if created.is_empty() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for pool in &pools {
        let mine: Vec<&ClaimableBalanceEntry> = [pool.asset_a, pool.asset_b]
            .into_iter()
            .filter_map(|asset| {
                created
                    .get(&revocation_balance_id(ctx, &pool.pool_id, asset, n - 1))
                    .copied()
            })
            .collect();
        let transfer = |cb: &ClaimableBalanceEntry| {
            mint_burn_or_transfer(
                ctx,
                n,
                &cb.asset,
                pool.addr(),
                Addr::of_balance_id(&cb.balance_id),
                cb.amount as i128,
                false,
            )
        };
        match mine.as_slice() {
            [cb] => {
                let (burned, burned_amount) = if &cb.asset == pool.asset_a {
                    (pool.asset_b, pool.amount_b)
                } else {
                    (pool.asset_a, pool.amount_a)
                };
                out.push(transfer(cb));
                out.push(TokenEvent {
                    kind: Kind::Burn,
                    sender: Some(pool.addr()),
                    receiver: None,
                    amount: burned_amount,
                    asset: Some(burned.clone()),
                    contract_id: ctx.sac_id(burned),
                    op_index: Some(n),
                    to_muxed: None,
                });
            }
            [a, b] => {
                out.push(transfer(a));
                out.push(transfer(b));
            }
            _ => {}
        }
    }
    Ok(out)
}
