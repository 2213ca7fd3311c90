//! JSON text exactly as the Python reference's `json.dumps(value, sort_keys=True, separators=(",", ":"),
//! ensure_ascii=False)` writes it: the `details` columns of `operations` (and `effects`).
//!
//! A `Details` map is built like the reference's dict (setting a key twice keeps the last value) and written
//! with its keys sorted at every depth. Floats print as Python's `repr` (shortest round-trip digits,
//! `1e-07`, `100.0`, `1e+16`); strings escape only what `json.dumps(ensure_ascii=False)` escapes.

use std::borrow::Cow;

/// One JSON value of a details map.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(String),
    Static(&'static str),
    /// Already JSON text (written as is).
    Raw(String),
    List(Vec<Val>),
    Obj(Details),
}

impl From<bool> for Val {
    fn from(v: bool) -> Self {
        Val::Bool(v)
    }
}
impl From<i64> for Val {
    fn from(v: i64) -> Self {
        Val::Int(v)
    }
}
impl From<i32> for Val {
    fn from(v: i32) -> Self {
        Val::Int(v as i64)
    }
}
impl From<u32> for Val {
    fn from(v: u32) -> Self {
        Val::Int(v as i64)
    }
}
impl From<f64> for Val {
    fn from(v: f64) -> Self {
        Val::Float(v)
    }
}
impl From<String> for Val {
    fn from(v: String) -> Self {
        Val::Str(v)
    }
}
impl From<&'static str> for Val {
    fn from(v: &'static str) -> Self {
        Val::Static(v)
    }
}
impl<T: Into<Val>> From<Option<T>> for Val {
    fn from(v: Option<T>) -> Self {
        v.map_or(Val::Null, Into::into)
    }
}

/// A JSON object (a Python dict): insertion-ordered, keys unique, written sorted.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Details(Vec<(Cow<'static, str>, Val)>);

impl Details {
    pub fn new() -> Self {
        Details(Vec::with_capacity(16))
    }

    /// `d[key] = value`.
    pub fn set(&mut self, key: impl Into<Cow<'static, str>>, value: impl Into<Val>) {
        let key = key.into();
        let value = value.into();
        if let Some(slot) = self.0.iter_mut().find(|(k, _)| *k == key) {
            slot.1 = value;
        } else {
            self.0.push((key, value));
        }
    }

    pub fn get(&self, key: &str) -> Option<&Val> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The JSON text of the map.
    pub fn to_json(&self) -> String {
        let mut out = String::with_capacity(64 * self.0.len().max(1));
        self.write(&mut out);
        out
    }

    pub fn write(&self, out: &mut String) {
        let mut order: Vec<&(Cow<'static, str>, Val)> = self.0.iter().collect();
        order.sort_by(|a, b| a.0.cmp(&b.0));
        out.push('{');
        for (i, (k, v)) in order.into_iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            write_str(k, out);
            out.push(':');
            v.write(out);
        }
        out.push('}');
    }
}

impl Val {
    pub fn write(&self, out: &mut String) {
        match self {
            Val::Null => out.push_str("null"),
            Val::Bool(true) => out.push_str("true"),
            Val::Bool(false) => out.push_str("false"),
            Val::Int(i) => {
                use std::fmt::Write;
                let _ = write!(out, "{i}");
            }
            Val::UInt(i) => {
                use std::fmt::Write;
                let _ = write!(out, "{i}");
            }
            Val::Float(f) => write_float(*f, out),
            Val::Str(s) => write_str(s, out),
            Val::Static(s) => write_str(s, out),
            Val::Raw(s) => out.push_str(s),
            Val::List(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write(out);
                }
                out.push(']');
            }
            Val::Obj(d) => d.write(out),
        }
    }
}

/// A JSON string as `json.dumps(ensure_ascii=False)` writes it.
pub fn write_str(s: &str, out: &mut String) {
    out.push('"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc: &str = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0..=0x1f => "",
            _ => continue,
        };
        out.push_str(&s[start..i]);
        if esc.is_empty() {
            const H: &[u8; 16] = b"0123456789abcdef";
            out.push_str("\\u00");
            out.push(H[(b >> 4) as usize] as char);
            out.push(H[(b & 15) as usize] as char);
        } else {
            out.push_str(esc);
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

/// A float as Python's `repr` (what `json.dumps` writes): shortest round-trip digits, scientific notation
/// when the decimal exponent is below -4 or at least 16, `.0` on integral values.
pub fn write_float(f: f64, out: &mut String) {
    if f.is_nan() {
        out.push_str("NaN");
        return;
    }
    if f.is_infinite() {
        out.push_str(if f > 0.0 { "Infinity" } else { "-Infinity" });
        return;
    }
    // Rust's `{:e}` gives the same shortest round-trip digits as Python's repr.
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (negative, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => (true, m),
        None => (false, mantissa),
    };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let decpt = exp + 1; // value = 0.DIGITS x 10^decpt
    if negative {
        out.push('-');
    }
    if !(-4 < decpt && decpt <= 16) {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        let e = exp.unsigned_abs();
        if e < 10 {
            out.push('0');
        }
        out.push_str(&e.to_string());
        return;
    }
    let n = digits.len() as i32;
    if decpt <= 0 {
        out.push_str("0.");
        for _ in 0..-decpt {
            out.push('0');
        }
        out.push_str(&digits);
    } else if decpt < n {
        out.push_str(&digits[..decpt as usize]);
        out.push('.');
        out.push_str(&digits[decpt as usize..]);
    } else {
        out.push_str(&digits);
        for _ in 0..decpt - n {
            out.push('0');
        }
        out.push_str(".0");
    }
}

/// JSON text written with Go's HTML-safe escapes (`\u003c`, `\u003e`, `\u0026`, `\u2028`, `\u2029`, as
/// `crate::scval::write_json` writes) turned back into the characters `json.dumps` keeps as they are.
pub fn without_go_escapes(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('\\') {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        let unescaped = match tail.get(..6) {
            Some("\\u003c") => Some('<'),
            Some("\\u003e") => Some('>'),
            Some("\\u0026") => Some('&'),
            Some("\\u2028") => Some('\u{2028}'),
            Some("\\u2029") => Some('\u{2029}'),
            _ => None,
        };
        match unescaped {
            Some(c) => {
                out.push(c);
                rest = &tail[6..];
            }
            None => {
                // Any other escape is two characters at least (`\\`, `\"`, `\n`, `\u....`): copy its first two.
                let two = tail.char_indices().nth(2).map_or(tail.len(), |(j, _)| j);
                out.push_str(&tail[..two]);
                rest = &tail[two..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn float(f: f64) -> String {
        let mut s = String::new();
        write_float(f, &mut s);
        s
    }

    #[test]
    fn floats_print_as_python_repr() {
        assert_eq!(float(1e-7), "1e-07");
        assert_eq!(float(1e16), "1e+16");
        assert_eq!(float(1e15), "1000000000000000.0");
        assert_eq!(float(123.0), "123.0");
        assert_eq!(float(0.1 + 0.2), "0.30000000000000004");
        assert_eq!(float(-0.0), "-0.0");
        assert_eq!(float(0.0), "0.0");
        assert_eq!(float(1e22), "1e+22");
        assert_eq!(float(12_345_678_901.234_568), "12345678901.234568");
        assert_eq!(float(0.0001), "0.0001");
        assert_eq!(float(0.00001234), "1.234e-05");
        assert_eq!(float(-922_337_203_685.477_5), "-922337203685.4775");
    }

    #[test]
    fn maps_sort_keys_and_keep_the_last_value() {
        let mut d = Details::new();
        d.set("b", 1i64);
        d.set("a", "x\"<\u{1}é");
        d.set("b", Val::List(vec![Val::Null, Val::Float(2.5)]));
        assert_eq!(d.to_json(), "{\"a\":\"x\\\"<\\u0001é\",\"b\":[null,2.5]}");
    }

    #[test]
    fn go_escapes_are_undone_only_where_they_are_escapes() {
        assert_eq!(
            without_go_escapes("{\"a\":\"\\u003c\\\\u003c\"}"),
            "{\"a\":\"<\\\\u003c\"}"
        );
    }
}
