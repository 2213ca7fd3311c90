//! Values as stellar-etl's Go code prints them (the twin of `beam_pipeline/util/goformat.py`): XDR enum
//! names, strings made of raw bytes, times made of epoch seconds.

/// Bytes as Go's JSON encoder renders a `string(bytes)`: valid UTF-8 kept, one U+FFFD per invalid byte.
pub use crate::arrow_out::go_string;

/// The name Go's XDR bindings print for an enum value (`OperationResultCodeOpInner`).
///
/// The Rust XDR crate drops the member prefix its enums share (`PAYMENT_SUCCESS` is `PaymentResultCode::Success`),
/// Go keeps it (`PaymentResultCodePaymentSuccess`), so the caller names the Go type and that prefix, in Go's
/// camel case, and the crate's member name (`.name()`) supplies the rest: `go_enum_name("PaymentResultCode",
/// "Payment", "Success")`.
pub fn go_enum_name(type_name: &str, member_prefix: &str, rust_member: &str) -> String {
    let mut out = String::with_capacity(type_name.len() + member_prefix.len() + rust_member.len());
    out.push_str(type_name);
    out.push_str(member_prefix);
    out.push_str(rust_member);
    out
}

// Seconds from Go's "absolute zero" (year -292277022399) to the Unix epoch (see goformat.py).
const GO_ABS_TO_UNIX: i128 = 9_223_372_028_683_721_448;

/// Proleptic Gregorian (year, month, day) of a day count from 1970-01-01.
fn civil_from_days(days: i128) -> (i128, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i128::from(month <= 2), month as u32, day as u32)
}

/// (year, month, day, hour, minute, second) of Go's `time.Unix(epoch, 0).UTC()`, wrap-around included
/// (`go_utc_parts`). A uint64 timepoint is passed as Go's `int64(tp)`.
pub fn go_utc_parts(epoch: i64) -> (i128, u32, u32, u32, u32, u32) {
    let m: i128 = 1 << 64;
    let unix = (epoch as i128 + GO_ABS_TO_UNIX).rem_euclid(m) - GO_ABS_TO_UNIX;
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    (
        year,
        month,
        day,
        (secs / 3600) as u32,
        (secs % 3600 / 60) as u32,
        (secs % 60) as u32,
    )
}

fn year_text(year: i128) -> String {
    if year < 0 {
        format!("-{:04}", -year)
    } else {
        format!("{year:04}")
    }
}

/// `time.Unix(epoch, 0).UTC().Format(time.RFC3339)`, with the Go SDK's `+` for years past 9999 (`go_rfc3339`).
pub fn go_rfc3339(epoch: i64) -> String {
    let (year, month, day, hh, mm, ss) = go_utc_parts(epoch);
    let text = format!("{}-{month:02}-{day:02}T{hh:02}:{mm:02}:{ss:02}Z", year_text(year));
    if year > 9999 {
        format!("+{text}")
    } else {
        text
    }
}

/// Go's `time.Unix(epoch, 0).String()` on a UTC host (`_go_time_string` of scval_text.py).
pub fn go_time_string(epoch: i64) -> String {
    let (year, month, day, hh, mm, ss) = go_utc_parts(epoch);
    format!(
        "{}-{month:02}-{day:02} {hh:02}:{mm:02}:{ss:02} +0000 UTC",
        year_text(year)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_print_as_go_prints_them() {
        assert_eq!(go_rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(go_rfc3339(1_719_250_080), "2024-06-24T17:28:00Z");
        // The Go SDK's own vector for int64 max.
        assert_eq!(go_rfc3339(i64::MAX), "+292277026596-12-04T15:30:07Z");
        assert_eq!(go_time_string(-1), "1969-12-31 23:59:59 +0000 UTC");
    }

    #[test]
    fn enum_names_keep_the_go_prefix() {
        assert_eq!(
            go_enum_name("PaymentResultCode", "Payment", "Success"),
            "PaymentResultCodePaymentSuccess"
        );
    }
}
