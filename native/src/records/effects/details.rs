//! An effect's `details` map and its JSON text (the twin of `details_text` in
//! `beam_pipeline/records/operations/__init__.py`: `json.dumps(sort_keys=True, separators=(",", ":"),
//! ensure_ascii=False)`).
//!
//! The Python path builds a dict and serialises it with sorted keys; here a map keeps its entries sorted as they
//! are set (a later `set` of a key replaces its value, as a dict assignment does), so writing is one pass with
//! no sorting and no intermediate string. Every key is a static ASCII name, so byte order is Python's order.

use std::fmt::{self, Write};

/// One JSON value of a details map.
#[derive(Clone, Debug, PartialEq)]
pub enum Val {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Str(String),
    List(Vec<Val>),
    Map(Details),
}

impl From<&str> for Val {
    fn from(s: &str) -> Self {
        Val::Str(s.to_string())
    }
}

impl From<String> for Val {
    fn from(s: String) -> Self {
        Val::Str(s)
    }
}

impl From<bool> for Val {
    fn from(b: bool) -> Self {
        Val::Bool(b)
    }
}

impl From<i64> for Val {
    fn from(x: i64) -> Self {
        Val::Int(x)
    }
}

impl From<i32> for Val {
    fn from(x: i32) -> Self {
        Val::Int(x as i64)
    }
}

impl From<u32> for Val {
    fn from(x: u32) -> Self {
        Val::Int(x as i64)
    }
}

impl From<u64> for Val {
    fn from(x: u64) -> Self {
        Val::UInt(x)
    }
}

impl From<Details> for Val {
    fn from(d: Details) -> Self {
        Val::Map(d)
    }
}

impl From<Vec<Val>> for Val {
    fn from(v: Vec<Val>) -> Self {
        Val::List(v)
    }
}

/// A details map: entries kept in key order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Details {
    entries: Vec<(&'static str, Val)>,
}

impl Details {
    pub fn new() -> Self {
        Details {
            entries: Vec::with_capacity(8),
        }
    }

    /// `details[key] = value`.
    pub fn set(&mut self, key: &'static str, value: impl Into<Val>) {
        let value = value.into();
        match self.entries.binary_search_by(|(k, _)| (*k).cmp(key)) {
            Ok(i) => self.entries[i].1 = value,
            Err(i) => self.entries.insert(i, (key, value)),
        }
    }

    /// A map of the given entries (later duplicates win, as in a dict literal).
    pub fn of<const N: usize>(entries: [(&'static str, Val); N]) -> Self {
        let mut d = Details::new();
        for (k, v) in entries {
            d.set(k, v);
        }
        d
    }

    pub fn contains(&self, key: &str) -> bool {
        self.entries.iter().any(|(k, _)| *k == key)
    }

    pub fn write<W: Write>(&self, out: &mut W) -> fmt::Result {
        out.write_char('{')?;
        for (i, (k, v)) in self.entries.iter().enumerate() {
            if i > 0 {
                out.write_char(',')?;
            }
            write_str(k, out)?;
            out.write_char(':')?;
            v.write(out)?;
        }
        out.write_char('}')
    }

    /// The JSON text (tests and error messages; rows write straight into their column).
    pub fn text(&self) -> String {
        let mut s = String::new();
        let _ = self.write(&mut s);
        s
    }
}

impl Val {
    pub fn write<W: Write>(&self, out: &mut W) -> fmt::Result {
        match self {
            Val::Null => out.write_str("null"),
            Val::Bool(true) => out.write_str("true"),
            Val::Bool(false) => out.write_str("false"),
            Val::Int(x) => write!(out, "{x}"),
            Val::UInt(x) => write!(out, "{x}"),
            Val::Str(s) => write_str(s, out),
            Val::List(items) => {
                out.write_char('[')?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.write_char(',')?;
                    }
                    item.write(out)?;
                }
                out.write_char(']')
            }
            Val::Map(d) => d.write(out),
        }
    }
}

/// A JSON string as Python's `json.dumps(..., ensure_ascii=False)` writes it: only `"`, `\` and the control
/// characters below U+0020 are escaped (no HTML escaping, unlike Go).
pub fn write_str<W: Write>(s: &str, out: &mut W) -> fmt::Result {
    out.write_char('"')?;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        let escaped: Option<&str> = match c {
            '"' => Some("\\\""),
            '\\' => Some("\\\\"),
            '\n' => Some("\\n"),
            '\r' => Some("\\r"),
            '\t' => Some("\\t"),
            '\u{08}' => Some("\\b"),
            '\u{0c}' => Some("\\f"),
            c if (c as u32) < 0x20 => None,
            _ => continue,
        };
        out.write_str(&s[start..i])?;
        match escaped {
            Some(e) => out.write_str(e)?,
            None => write!(out, "\\u{:04x}", c as u32)?,
        }
        start = i + c.len_utf8();
    }
    out.write_str(&s[start..])?;
    out.write_char('"')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_sort_and_later_sets_replace() {
        let mut d = Details::new();
        d.set("b", 1i64);
        d.set("a", "x");
        d.set("b", true);
        d.set("a_b", Val::Null);
        assert_eq!(d.text(), r#"{"a":"x","a_b":null,"b":true}"#);
    }

    #[test]
    fn strings_escape_like_python_json() {
        let mut s = String::new();
        write_str("a\"\\\n\u{1}<é\u{7f}\u{2028}", &mut s).unwrap();
        assert_eq!(s, "\"a\\\"\\\\\\n\\u0001<é\u{7f}\u{2028}\"");
    }

    #[test]
    fn nested_values() {
        let inner = Details::of([("z", Val::UInt(u64::MAX)), ("y", Val::Int(-3))]);
        let d = Details::of([("list", Val::List(vec![Val::Map(inner), Val::Null]))]);
        assert_eq!(d.text(), r#"{"list":[{"y":-3,"z":18446744073709551615},null]}"#);
    }
}
