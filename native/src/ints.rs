//! Integer columns, built in their stored type: every integer column is int64 (docs/tables.md, "Integer
//! types"), whatever the XDR's type, so the Python side casts nothing (`beam_pipeline/native.py`, `conform`).
//!
//! Two conversions, one helper each:
//! - `Int64Column` takes the types that widen to int64 without loss (`Widens`: the XDR's uint32 and int32, the
//!   narrower ones, int64 itself). A u64 or usize does not compile there.
//! - `Uint64s` takes an XDR uint64 and refuses a value of 2^63 or more the way the Python path's conversion
//!   does (`IntegerRangeError`, same words, same ledger); it never wraps.

use arrow_array::builder::Int64Builder;
use arrow_array::Int64Array;

use crate::records::RowError;

/// An integer type every value of which int64 holds exactly.
pub trait Widens: Copy {
    fn widen(self) -> i64;
}

macro_rules! widens {
    ($($t:ty),*) => {
        $(impl Widens for $t {
            fn widen(self) -> i64 {
                i64::from(self)
            }
        })*
    };
}

widens!(u8, u16, u32, i8, i16, i32, i64);

/// An int64 column fed with any `Widens` value: the builder methods the tables use, under the same names.
#[derive(Default)]
pub struct Int64Column(Int64Builder);

impl Int64Column {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn append_value(&mut self, v: impl Widens) {
        self.0.append_value(v.widen());
    }

    pub fn append_option(&mut self, v: Option<impl Widens>) {
        self.0.append_option(v.map(Widens::widen));
    }

    pub fn append_null(&mut self) {
        self.0.append_null();
    }

    pub fn finish(&mut self) -> Int64Array {
        self.0.finish()
    }
}

/// A length as an int64 value (a Rust length is at most isize::MAX, which int64 holds on every 64-bit target; a
/// hypothetical wider one saturates rather than wraps).
pub fn count(len: usize) -> i64 {
    i64::try_from(len).unwrap_or(i64::MAX)
}

/// The error of a value its int64 column cannot hold, worded as the Python path's `integer_range_error`
/// (`beam_pipeline/records/base.py`), so both paths fail the ledger, or dead-letter it, with the same message.
pub fn range_error(column: &str, value: u64) -> RowError {
    RowError::new(
        "IntegerRangeError",
        format!(
            "column {column}: value {value} does not fit the stored type int64 (integer columns are int64; \
             see docs/tables.md, Integer types)"
        ),
    )
}

/// One ledger's XDR uint64 values on their way to int64 columns.
///
/// The Python path converts a ledger's rows to Arrow once they are all built: an error of the transform (in any
/// row) wins, and an out-of-range value is reported for the first such column in schema order, with that
/// column's first such value in row order (`columns_to_batch`). So a table notes its values here while it builds
/// the ledger's rows, and calls `finish` after the last one.
pub struct Uint64s {
    /// The table's uint64 columns, in schema order.
    columns: &'static [&'static str],
    /// The first value out of range: (index into `columns`, value).
    first: Option<(usize, u64)>,
}

impl Uint64s {
    pub fn new(columns: &'static [&'static str]) -> Self {
        Uint64s { columns, first: None }
    }

    /// `value` of the column `columns[column]` as int64. A value of 2^63 or more is noted and 0 returned in its
    /// place: `finish` then fails the ledger, so that 0 is never stored.
    pub fn get(&mut self, column: usize, value: u64) -> i64 {
        i64::try_from(value).unwrap_or_else(|_| {
            if self.first.is_none_or(|(c, _)| column < c) {
                self.first = Some((column, value));
            }
            0
        })
    }

    /// Every value fitted, or the `IntegerRangeError` of the first that did not.
    pub fn finish(self) -> Result<(), RowError> {
        match self.first {
            None => Ok(()),
            Some((column, value)) => Err(range_error(self.columns.get(column).copied().unwrap_or("?"), value)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::Array;

    #[test]
    fn narrower_types_widen_exactly() {
        let mut c = Int64Column::new();
        c.append_value(u32::MAX);
        c.append_value(i32::MIN);
        c.append_option(None::<u8>);
        c.append_option(Some(7u16));
        let a = c.finish();
        assert_eq!(a.value(0), 4_294_967_295);
        assert_eq!(a.value(1), -2_147_483_648);
        assert!(a.is_null(2));
        assert_eq!(a.value(3), 7);
    }

    #[test]
    fn uint64s_report_the_first_column_in_schema_order_then_the_first_value() {
        let mut u = Uint64s::new(&["a", "b"]);
        assert_eq!(u.get(0, 1 << 62), 1 << 62);
        assert_eq!(u.get(1, u64::MAX), 0); // noted, never stored: finish fails
        assert_eq!(u.get(0, 1 << 63), 0); // an earlier column wins
        u.get(0, u64::MAX); // a later value of the same column does not
        let e = u.finish().expect_err("out of range");
        assert_eq!(e.class, "IntegerRangeError");
        assert_eq!(
            e.message,
            "column a: value 9223372036854775808 does not fit the stored type int64 (integer columns are int64; \
             see docs/tables.md, Integer types)"
        );
        let mut fits = Uint64s::new(&["a"]);
        assert_eq!(fits.get(0, i64::MAX as u64), i64::MAX);
        assert!(fits.finish().is_ok());
    }
}
