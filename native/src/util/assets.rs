//! Assets as stellar-etl names them (the twin of `beam_pipeline/util/assets.py`): type strings, codes, issuers,
//! canonical form, `asset_id`, liquidity pool ids and Stellar Asset Contract ids.

use sha2::{Digest, Sha256};
use stellar_xdr::curr::{
    AccountId, AlphaNum12, AlphaNum4, Asset, ChangeTrustAsset, Limits, LiquidityPoolParameters, TrustLineAsset,
    WriteXdr,
};

use super::farmhash::fingerprint64;
use super::goformat::go_string;
use crate::arrow_out::hex;
use crate::strkey;

pub const NATIVE: &str = "native";
pub const CREDIT_ALPHANUM4: &str = "credit_alphanum4";
pub const CREDIT_ALPHANUM12: &str = "credit_alphanum12";
pub const LIQUIDITY_POOL_SHARES: &str = "liquidity_pool_shares";

/// Strkey version bytes the `strkey` module does not name: `L...` pools, `B...` claimable balances.
pub const LIQUIDITY_POOL_VERSION: u8 = 11 << 3;
pub const CLAIMABLE_BALANCE_VERSION: u8 = 1 << 3;

/// An asset code with its zero padding removed (trailing NULs only, as stellar-etl does).
pub fn code_text(code: &[u8]) -> String {
    let end = code.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    go_string(&code[..end])
}

/// `native`, `credit_alphanum4` or `credit_alphanum12`.
pub fn asset_type_name(asset: &Asset) -> &'static str {
    match asset {
        Asset::Native => NATIVE,
        Asset::CreditAlphanum4(_) => CREDIT_ALPHANUM4,
        Asset::CreditAlphanum12(_) => CREDIT_ALPHANUM12,
    }
}

/// (type, code, issuer) of an asset; code and issuer are empty strings for the native asset.
pub fn extract_asset(asset: &Asset) -> (&'static str, String, String) {
    match asset {
        Asset::Native => (NATIVE, String::new(), String::new()),
        Asset::CreditAlphanum4(a) => (
            CREDIT_ALPHANUM4,
            code_text(&a.asset_code.0),
            strkey::account_id(&a.issuer),
        ),
        Asset::CreditAlphanum12(a) => (
            CREDIT_ALPHANUM12,
            code_text(&a.asset_code.0),
            strkey::account_id(&a.issuer),
        ),
    }
}

/// An asset as stellar-etl's asset columns hold it: code, issuer, type name and `asset_id`.
pub struct AssetColumns {
    pub code: String,
    pub issuer: String,
    pub kind: &'static str,
    pub id: i64,
}

/// (type, code, issuer, farm-hash id) like stellar-etl's transformSingleAsset.
pub fn asset_columns(asset: &Asset) -> AssetColumns {
    let (kind, code, issuer) = extract_asset(asset);
    let id = asset_id(&code, &issuer, kind);
    AssetColumns { code, issuer, kind, id }
}

/// `native` or `CODE:ISSUER` (SEP-11 canonical form).
pub fn canonical_asset(asset: &Asset) -> String {
    match asset {
        Asset::Native => NATIVE.to_string(),
        _ => {
            let (_, code, issuer) = extract_asset(asset);
            format!("{code}:{issuer}")
        }
    }
}

/// stellar-etl's `asset_id`: FarmHash Fingerprint64 of code+issuer+type, as a signed int64.
pub fn asset_id(code: &str, issuer: &str, kind: &str) -> i64 {
    let mut text = Vec::with_capacity(code.len() + issuer.len() + kind.len());
    text.extend_from_slice(code.as_bytes());
    text.extend_from_slice(issuer.as_bytes());
    text.extend_from_slice(kind.as_bytes());
    fingerprint64(&text) as i64
}

/// `asset_id` of an XDR asset (the native one hashes as code "" issuer "" type "native").
pub fn asset_id_of(asset: &Asset) -> i64 {
    let (kind, code, issuer) = extract_asset(asset);
    asset_id(&code, &issuer, kind)
}

/// The plain Asset behind a non-pool ChangeTrustAsset; Err for a pool share (as the reference's ValueError).
pub fn change_trust_asset_to_asset(line: &ChangeTrustAsset) -> Result<Asset, String> {
    match line {
        ChangeTrustAsset::Native => Ok(Asset::Native),
        ChangeTrustAsset::CreditAlphanum4(a) => Ok(Asset::CreditAlphanum4(a.clone())),
        ChangeTrustAsset::CreditAlphanum12(a) => Ok(Asset::CreditAlphanum12(a.clone())),
        ChangeTrustAsset::PoolShare(_) => Err("a pool-share trust line has no plain asset".to_string()),
    }
}

/// The plain Asset behind a non-pool TrustLineAsset; Err for a pool share (as the reference's ValueError).
pub fn trust_line_asset_to_asset(line: &TrustLineAsset) -> Result<Asset, String> {
    match line {
        TrustLineAsset::Native => Ok(Asset::Native),
        TrustLineAsset::CreditAlphanum4(a) => Ok(Asset::CreditAlphanum4(a.clone())),
        TrustLineAsset::CreditAlphanum12(a) => Ok(Asset::CreditAlphanum12(a.clone())),
        TrustLineAsset::PoolShare(_) => Err("a pool-share trust line has no plain asset".to_string()),
    }
}

/// The credit asset of `code` (NUL-padded to 4 bytes when up to 4 long, else to 12) issued by `issuer`; None
/// for a code longer than 12 bytes (as the reference's `_parse_canonical_asset`).
pub fn credit_asset(code: &[u8], issuer: AccountId) -> Option<Asset> {
    if code.len() <= 4 {
        let mut c = [0u8; 4];
        c[..code.len()].copy_from_slice(code);
        return Some(Asset::CreditAlphanum4(AlphaNum4 {
            asset_code: stellar_xdr::curr::AssetCode4(c),
            issuer,
        }));
    }
    if code.len() <= 12 {
        let mut c = [0u8; 12];
        c[..code.len()].copy_from_slice(code);
        return Some(Asset::CreditAlphanum12(AlphaNum12 {
            asset_code: stellar_xdr::curr::AssetCode12(c),
            issuer,
        }));
    }
    None
}

/// A liquidity pool's id: sha256 of its parameters' XDR (assets already in protocol order).
pub fn pool_id_from_params(params: &LiquidityPoolParameters) -> Result<[u8; 32], String> {
    let bytes = params.to_xdr(Limits::none()).map_err(|e| e.to_string())?;
    Ok(Sha256::digest(&bytes).into())
}

pub fn pool_id_hex(pool_id: &[u8]) -> String {
    hex(pool_id)
}

/// The `L...` strkey of a liquidity pool id.
pub fn pool_id_strkey(pool_id: &[u8]) -> String {
    strkey::encode(LIQUIDITY_POOL_VERSION, pool_id)
}

/// The Stellar Asset Contract id of `asset` on the network of `network_id` (sha256 of the XDR of its
/// `HashIdPreimage::ContractId` preimage: envelope type 8, network id, preimage type 1 (from asset), asset).
pub fn asset_contract_id(asset: &Asset, network_id: &[u8; 32]) -> Result<[u8; 32], String> {
    let mut h = Sha256::new();
    h.update(8u32.to_be_bytes());
    h.update(network_id);
    h.update(1u32.to_be_bytes());
    h.update(asset.to_xdr(Limits::none()).map_err(|e| e.to_string())?);
    Ok(h.finalize().into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use stellar_xdr::curr::{PublicKey, Uint256};

    #[test]
    fn asset_ids_and_forms_match_the_reference() {
        assert_eq!(asset_id_of(&Asset::Native), 12740038269126003605u64 as i64);
        let issuer = AccountId(PublicKey::PublicKeyTypeEd25519(Uint256([0; 32])));
        let usd = Asset::CreditAlphanum4(AlphaNum4 {
            asset_code: stellar_xdr::curr::AssetCode4(*b"USD\0"),
            issuer,
        });
        let (kind, code, issuer) = extract_asset(&usd);
        assert_eq!((kind, code.as_str()), ("credit_alphanum4", "USD"));
        assert_eq!(canonical_asset(&usd), format!("USD:{issuer}"));
        assert_eq!(code_text(b"\0\0\0\0"), "");
    }
}
