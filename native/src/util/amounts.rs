//! Amounts in stroops as stellar-etl's float64 columns hold them: the exact rational rounded once to the
//! nearest double, as Python's int / int true division and Go's `big.Rat.Float64` do (every table's amounts).

/// Stroops per unit (7 decimals).
pub const STROOPS_PER_UNIT: u128 = 10_000_000;

/// `num / den` correctly rounded to the nearest double (ties to even), as Python's int true division.
pub fn div_to_f64(num: u128, den: u128) -> f64 {
    if num == 0 || den == 0 {
        return 0.0;
    }
    let bits = |x: u128| 128 - x.leading_zeros() as i32;
    let mut k: i32 = 52 - bits(num) + bits(den);
    for _ in 0..8 {
        let (n, d) = if k >= 0 { (num << k, den) } else { (num, den << -k) };
        let q = n / d;
        if q >= 1 << 53 {
            k -= 1;
            continue;
        }
        if q < 1 << 52 {
            k += 1;
            continue;
        }
        let r = n % d;
        let mut q = q;
        if 2 * r > d || (2 * r == d && q & 1 == 1) {
            q += 1;
        }
        return (q as f64) * 2f64.powi(-k);
    }
    num as f64 / den as f64
}

/// An amount in stroops as stellar-etl's float64 (exact rational rounded to the nearest double).
pub fn stroops_to_real(value: impl Into<i128>) -> f64 {
    let value: i128 = value.into();
    let magnitude = div_to_f64(value.unsigned_abs(), STROOPS_PER_UNIT);
    if value < 0 {
        -magnitude
    } else {
        magnitude
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stroops_round_once_like_python_true_division() {
        assert_eq!(stroops_to_real(0i64), 0.0);
        assert_eq!(stroops_to_real(1i64), 1e-7);
        assert_eq!(stroops_to_real(15i64), 1.5e-6);
        assert_eq!(stroops_to_real(-15_000_000i64), -1.5);
        assert_eq!(stroops_to_real(i64::MAX), 922337203685.4775);
        assert_eq!(stroops_to_real(i64::MIN), -922337203685.4775);
        // Python: 9007199254740993 / 10_000_000 == 900719925.4740993 (float(n) / 1e7 gives ...4740992).
        assert_eq!(stroops_to_real(9_007_199_254_740_993i64), 900719925.4740993);
        assert_eq!(stroops_to_real(9_007_199_254_740_993_123i64), 900719925474.0994);
    }
}
