//! Stellar strkeys (SEP-23): version byte, payload, CRC16-XModem, RFC 4648 base32 without padding.

const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

pub const ACCOUNT_ID: u8 = 6 << 3; // G...
pub const CONTRACT: u8 = 2 << 3; // C...
pub const MUXED_ACCOUNT: u8 = 12 << 3; // M...
pub const PRE_AUTH_TX: u8 = 19 << 3; // T...
pub const SHA256_HASH: u8 = 23 << 3; // X...
pub const SIGNED_PAYLOAD: u8 = 15 << 3; // P...

fn crc16_xmodem(data: &[u8]) -> u16 {
    let mut crc: u16 = 0;
    for &b in data {
        crc ^= (b as u16) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc
}

fn base32(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(5) * 8);
    let (mut acc, mut bits) = (0u32, 0u32);
    for &b in data {
        acc = (acc << 8) | b as u32;
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(ALPHABET[((acc >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(ALPHABET[((acc << (5 - bits)) & 31) as usize] as char);
    }
    out
}

/// The strkey of `payload` under `version` (e.g. `ACCOUNT_ID` and a 32-byte ed25519 key: `G...`).
pub fn encode(version: u8, payload: &[u8]) -> String {
    let mut raw = Vec::with_capacity(payload.len() + 3);
    raw.push(version);
    raw.extend_from_slice(payload);
    let crc = crc16_xmodem(&raw);
    raw.extend_from_slice(&crc.to_le_bytes());
    base32(&raw)
}

use stellar_xdr::curr::{AccountId, Limits, MuxedAccount, PublicKey, SignerKey, WriteXdr};

/// `G...` of an AccountID (`account_id_address`).
pub fn account_id(id: &AccountId) -> String {
    let PublicKey::PublicKeyTypeEd25519(key) = &id.0;
    encode(ACCOUNT_ID, &key.0)
}

/// `G...` of the account behind a possibly multiplexed account (`account_address`).
pub fn account(muxed: &MuxedAccount) -> String {
    match muxed {
        MuxedAccount::Ed25519(k) => encode(ACCOUNT_ID, &k.0),
        MuxedAccount::MuxedEd25519(m) => encode(ACCOUNT_ID, &m.ed25519.0),
    }
}

/// `M...` of a multiplexed account, None for a plain one (`muxed_address`).
pub fn muxed(muxed: &MuxedAccount) -> Option<String> {
    match muxed {
        MuxedAccount::Ed25519(_) => None,
        MuxedAccount::MuxedEd25519(m) => {
            let mut raw = m.ed25519.0.to_vec();
            raw.extend_from_slice(&m.id.to_be_bytes());
            Some(encode(MUXED_ACCOUNT, &raw))
        }
    }
}

/// Go's `MuxedAccount.Address()`: the M-address when muxed, else the G-address.
pub fn full(m: &MuxedAccount) -> String {
    muxed(m).unwrap_or_else(|| account(m))
}

/// The strkey of a signer key (`signer_key_address`).
pub fn signer(key: &SignerKey) -> String {
    match key {
        SignerKey::Ed25519(k) => encode(ACCOUNT_ID, &k.0),
        SignerKey::PreAuthTx(k) => encode(PRE_AUTH_TX, &k.0),
        SignerKey::HashX(k) => encode(SHA256_HASH, &k.0),
        SignerKey::Ed25519SignedPayload(p) => encode(
            SIGNED_PAYLOAD,
            &p.to_xdr(Limits::none()).expect("a decoded signed payload re-encodes"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_key_is_the_known_account() {
        // The all-zero ed25519 key, as every Stellar SDK prints it.
        assert_eq!(
            encode(ACCOUNT_ID, &[0u8; 32]),
            "GAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAWHF"
        );
    }

    #[test]
    fn base32_matches_rfc4648_vectors() {
        assert_eq!(base32(b"foobar"), "MZXW6YTBOI");
        assert_eq!(base32(b"f"), "MY");
    }
}
