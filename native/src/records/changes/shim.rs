//! MERGE: replace with util::assets and util::goformat (n-ops' ports of `beam_pipeline/util/assets.py` and
//! `util/goformat.py`) once they land; until then the change tables use these private copies.
//!
//! `asset_id` is stellar-etl's FarmHash Fingerprint64 (farmhashna::Hash64) of code + issuer + type, as a signed
//! int64; `go_rfc3339` is Go's `time.Unix(epoch, 0).UTC().Format(time.RFC3339)` with the SDK's `+` for years
//! beyond 9999.

use stellar_xdr::curr::{AlphaNum12, AlphaNum4, Asset};

use crate::arrow_out::go_string;
use crate::util::accounts::account_id_address;

const K0: u64 = 0xc3a5_c85c_97cb_3127;
const K1: u64 = 0xb492_b66f_be98_f273;
const K2: u64 = 0x9ae1_6a3b_2f90_404f;

fn word(s: &[u8], at: usize) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&s[at..at + 8]);
    u64::from_le_bytes(b)
}

fn half(s: &[u8], at: usize) -> u64 {
    let mut b = [0u8; 4];
    b.copy_from_slice(&s[at..at + 4]);
    u32::from_le_bytes(b) as u64
}

fn shift_mix(v: u64) -> u64 {
    v ^ (v >> 47)
}

fn len16(u: u64, v: u64, mul: u64) -> u64 {
    let a = shift_mix((u ^ v).wrapping_mul(mul));
    let b = shift_mix((v ^ a).wrapping_mul(mul));
    b.wrapping_mul(mul)
}

fn short(s: &[u8]) -> u64 {
    let n = s.len() as u64;
    let mul = K2.wrapping_add(n * 2);
    if s.len() >= 8 {
        let a = word(s, 0).wrapping_add(K2);
        let b = word(s, s.len() - 8);
        let c = b.rotate_right(37).wrapping_mul(mul).wrapping_add(a);
        let d = a.rotate_right(25).wrapping_add(b).wrapping_mul(mul);
        len16(c, d, mul)
    } else if s.len() >= 4 {
        len16(n + (half(s, 0) << 3), half(s, s.len() - 4), mul)
    } else if let (Some(&a), Some(&c)) = (s.first(), s.last()) {
        let b = s[s.len() >> 1];
        let y = a as u64 + ((b as u64) << 8);
        let z = n + ((c as u64) << 2);
        shift_mix(y.wrapping_mul(K2) ^ z.wrapping_mul(K0)).wrapping_mul(K2)
    } else {
        K2
    }
}

fn medium(s: &[u8]) -> u64 {
    let n = s.len();
    let mul = K2.wrapping_add(n as u64 * 2);
    let a = word(s, 0).wrapping_mul(K1);
    let b = word(s, 8);
    let c = word(s, n - 8).wrapping_mul(mul);
    let d = word(s, n - 16).wrapping_mul(K2);
    len16(
        a.wrapping_add(b)
            .rotate_right(43)
            .wrapping_add(c.rotate_right(30))
            .wrapping_add(d),
        a.wrapping_add(b.wrapping_add(K2).rotate_right(18)).wrapping_add(c),
        mul,
    )
}

fn long(s: &[u8]) -> u64 {
    let n = s.len();
    let mul = K2.wrapping_add(n as u64 * 2);
    let a = word(s, 0).wrapping_mul(K2);
    let b = word(s, 8);
    let c = word(s, n - 8).wrapping_mul(mul);
    let d = word(s, n - 16).wrapping_mul(K2);
    let y = a
        .wrapping_add(b)
        .rotate_right(43)
        .wrapping_add(c.rotate_right(30))
        .wrapping_add(d);
    let z = len16(
        y,
        a.wrapping_add(b.wrapping_add(K2).rotate_right(18)).wrapping_add(c),
        mul,
    );
    let e = word(s, 16).wrapping_mul(mul);
    let f = word(s, 24);
    let g = y.wrapping_add(word(s, n - 32)).wrapping_mul(mul);
    let h = z.wrapping_add(word(s, n - 24)).wrapping_mul(mul);
    len16(
        e.wrapping_add(f)
            .rotate_right(43)
            .wrapping_add(g.rotate_right(30))
            .wrapping_add(h),
        e.wrapping_add(f.wrapping_add(a).rotate_right(18)).wrapping_add(g),
        mul,
    )
}

/// (a + z, b + c) of the 32 bytes at `at` seeded with (a, b): farmhash's weak 128-bit mix.
fn weak32(s: &[u8], at: usize, mut a: u64, mut b: u64) -> (u64, u64) {
    let (w, x, y, z) = (word(s, at), word(s, at + 8), word(s, at + 16), word(s, at + 24));
    a = a.wrapping_add(w);
    b = b.wrapping_add(a).wrapping_add(z).rotate_right(21);
    let c = a;
    a = a.wrapping_add(x).wrapping_add(y);
    b = b.wrapping_add(a.rotate_right(44));
    (a.wrapping_add(z), b.wrapping_add(c))
}

/// FarmHash Fingerprint64 (farmhashna::Hash64) of `s`.
pub fn fingerprint64(s: &[u8]) -> u64 {
    let n = s.len();
    if n <= 16 {
        return short(s);
    }
    if n <= 32 {
        return medium(s);
    }
    if n <= 64 {
        return long(s);
    }
    const SEED: u64 = 81;
    let mut x = SEED.wrapping_mul(K2).wrapping_add(word(s, 0));
    let mut y = SEED.wrapping_mul(K1).wrapping_add(113);
    let mut z = shift_mix(y.wrapping_mul(K2).wrapping_add(113)).wrapping_mul(K2);
    let (mut v, mut w) = ((0u64, 0u64), (0u64, 0u64));
    let blocks = (n - 1) / 64;
    for i in 0..blocks {
        let p = i * 64;
        x = x
            .wrapping_add(y)
            .wrapping_add(v.0)
            .wrapping_add(word(s, p + 8))
            .rotate_right(37)
            .wrapping_mul(K1);
        y = y
            .wrapping_add(v.1)
            .wrapping_add(word(s, p + 48))
            .rotate_right(42)
            .wrapping_mul(K1);
        x ^= w.1;
        y = y.wrapping_add(v.0).wrapping_add(word(s, p + 40));
        z = z.wrapping_add(w.0).rotate_right(33).wrapping_mul(K1);
        v = weak32(s, p, v.1.wrapping_mul(K1), x.wrapping_add(w.0));
        w = weak32(s, p + 32, z.wrapping_add(w.1), y.wrapping_add(word(s, p + 16)));
        std::mem::swap(&mut z, &mut x);
    }
    let mul = K1.wrapping_add((z & 0xff) << 1);
    let p = n - 64;
    w.0 = w.0.wrapping_add(((n - 1) & 63) as u64);
    v.0 = v.0.wrapping_add(w.0);
    w.0 = w.0.wrapping_add(v.0);
    x = x
        .wrapping_add(y)
        .wrapping_add(v.0)
        .wrapping_add(word(s, p + 8))
        .rotate_right(37)
        .wrapping_mul(mul);
    y = y
        .wrapping_add(v.1)
        .wrapping_add(word(s, p + 48))
        .rotate_right(42)
        .wrapping_mul(mul);
    x ^= w.1.wrapping_mul(9);
    y = y.wrapping_add(v.0.wrapping_mul(9)).wrapping_add(word(s, p + 40));
    z = z.wrapping_add(w.0).rotate_right(33).wrapping_mul(mul);
    v = weak32(s, p, v.1.wrapping_mul(mul), x.wrapping_add(w.0));
    w = weak32(s, p + 32, z.wrapping_add(w.1), y.wrapping_add(word(s, p + 16)));
    std::mem::swap(&mut z, &mut x);
    len16(
        len16(v.0, w.0, mul)
            .wrapping_add(shift_mix(y).wrapping_mul(K0))
            .wrapping_add(z),
        len16(v.1, w.1, mul).wrapping_add(x),
        mul,
    )
}

/// stellar-etl's `asset_id`: Fingerprint64 of code + issuer + type, as a signed int64.
pub fn asset_id(code: &str, issuer: &str, kind: &str) -> i64 {
    let mut text = String::with_capacity(code.len() + issuer.len() + kind.len());
    text.push_str(code);
    text.push_str(issuer);
    text.push_str(kind);
    fingerprint64(text.as_bytes()) as i64
}

/// An asset code with its trailing zero padding removed, as Go renders the bytes.
fn code_text(code: &[u8]) -> String {
    let end = code.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    go_string(&code[..end])
}

/// (type, code, issuer) of an asset (`extract_asset`); code and issuer are empty for the native asset.
pub fn extract_asset(asset: &Asset) -> (&'static str, String, String) {
    match asset {
        Asset::Native => ("native", String::new(), String::new()),
        Asset::CreditAlphanum4(AlphaNum4 { asset_code, issuer }) => {
            ("credit_alphanum4", code_text(&asset_code.0), account_id_address(issuer))
        }
        Asset::CreditAlphanum12(AlphaNum12 { asset_code, issuer }) => (
            "credit_alphanum12",
            code_text(&asset_code.0),
            account_id_address(issuer),
        ),
    }
}

/// Seconds from Go's absolute zero (year -292277022399) to the Unix epoch.
const GO_ABS_TO_UNIX: i128 = 9_223_372_028_683_721_448;

/// Proleptic Gregorian (year, month, day) of a day count from 1970-01-01.
fn civil_from_days(days: i128) -> (i128, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + (month <= 2) as i128, month, day)
}

/// `time.Unix(epoch, 0).UTC().Format(time.RFC3339)` plus the SDK's `+` for years > 9999 (`go_rfc3339`),
/// wrapping around as Go does outside its representable span.
pub fn go_rfc3339(epoch: i64) -> String {
    let unix = (epoch as i128 + GO_ABS_TO_UNIX).rem_euclid(1 << 64) - GO_ABS_TO_UNIX;
    let (days, secs) = (unix.div_euclid(86_400), unix.rem_euclid(86_400));
    let (year, month, day) = civil_from_days(days);
    let (hh, mm, ss) = (secs / 3600, secs % 3600 / 60, secs % 60);
    let year_text = if year < 0 {
        format!("-{:04}", -year)
    } else {
        format!("{year:04}")
    };
    let text = format!("{year_text}-{month:02}-{day:02}T{hh:02}:{mm:02}:{ss:02}Z");
    if year > 9999 {
        format!("+{text}")
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint64_matches_pyfarmhash_at_every_length_class() {
        let cases: [(&str, u64); 6] = [
            ("", 11160318154034397263),
            ("a", 12917804110809363939),
            ("abc", 2640714258260161385),
            ("native", 12740038269126003605),
            ("abcdefgh", 18368443631171807497),
            (
                "USDCGA5ZSEJYB37JRC5AVCIA5MOP4RHTM335X2KGX3IHOJAPP5RE34K4KZVNcredit_alphanum4",
                14421122842438219932,
            ),
        ];
        for (s, want) in cases {
            assert_eq!(fingerprint64(s.as_bytes()), want, "{s}");
        }
        let repeated: [(u8, usize, u64); 5] = [
            (b'x', 17, 11306081951414300581),
            (b'y', 33, 8610735037765521150),
            (b'z', 64, 294799756062990872),
            (b'w', 65, 12495383604066267776),
            (b'q', 200, 17372321070079757425),
        ];
        for (c, n, want) in repeated {
            assert_eq!(fingerprint64(&vec![c; n]), want, "{n}");
        }
    }

    #[test]
    fn rfc3339_follows_go() {
        assert_eq!(go_rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(go_rfc3339(i64::MAX), "+292277026596-12-04T15:30:07Z");
        assert_eq!(go_rfc3339(i64::MIN), "+292277026596-12-04T15:30:08Z");
        assert_eq!(go_rfc3339(253402300800), "+10000-01-01T00:00:00Z");
        assert_eq!(go_rfc3339(-62135596801), "0000-12-31T23:59:59Z");
        assert_eq!(go_rfc3339(1700000000), "2023-11-14T22:13:20Z");
    }
}
