//! Column builders and value formats shared by the tables.

use std::sync::Arc;

use arrow_array::builder::{BinaryBuilder, ListBuilder, StringBuilder};
use arrow_array::ArrayRef;

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding, as Python's `base64.b64encode`.
pub fn base64(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    base64_write(data, &mut out);
    out
}

/// Appends the base64 of `data` to `out` (a String, or the current value of an Arrow string builder, which
/// saves building a String per value), 3 KiB of input at a time through a buffer on the stack.
pub fn base64_write(data: &[u8], out: &mut impl std::fmt::Write) {
    let mut buf = [0u8; 4096];
    for block in data.chunks(3072) {
        let mut n = 0;
        let mut triples = block.chunks_exact(3);
        for t in &mut triples {
            let v = ((t[0] as u32) << 16) | ((t[1] as u32) << 8) | t[2] as u32;
            buf[n] = B64[(v >> 18) as usize & 63];
            buf[n + 1] = B64[(v >> 12) as usize & 63];
            buf[n + 2] = B64[(v >> 6) as usize & 63];
            buf[n + 3] = B64[v as usize & 63];
            n += 4;
        }
        match *triples.remainder() {
            [a] => {
                let v = (a as u32) << 16;
                buf[n..n + 4].copy_from_slice(&[
                    B64[(v >> 18) as usize & 63],
                    B64[(v >> 12) as usize & 63],
                    b'=',
                    b'=',
                ]);
                n += 4;
            }
            [a, b] => {
                let v = ((a as u32) << 16) | ((b as u32) << 8);
                let c = [
                    B64[(v >> 18) as usize & 63],
                    B64[(v >> 12) as usize & 63],
                    B64[(v >> 6) as usize & 63],
                    b'=',
                ];
                buf[n..n + 4].copy_from_slice(&c);
                n += 4;
            }
            _ => {}
        }
        // Only alphabet bytes were written, so this is ASCII.
        let _ = out.write_str(std::str::from_utf8(&buf[..n]).unwrap_or_default());
    }
}

/// Lowercase hex, as Python's `bytes.hex()`.
pub fn hex(data: &[u8]) -> String {
    const H: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(data.len() * 2);
    for &b in data {
        out.push(H[(b >> 4) as usize] as char);
        out.push(H[(b & 15) as usize] as char);
    }
    out
}

/// Bytes as Go's JSON encoder renders a `string(bytes)`: valid UTF-8 kept, one U+FFFD per invalid byte
/// (`go_string`; Rust's `from_utf8_lossy` would put one per invalid sequence).
pub fn go_string(mut raw: &[u8]) -> String {
    let mut out = String::with_capacity(raw.len());
    loop {
        match std::str::from_utf8(raw) {
            Ok(s) => {
                out.push_str(s);
                return out;
            }
            Err(e) => {
                let (valid, rest) = raw.split_at(e.valid_up_to());
                out.push_str(std::str::from_utf8(valid).expect("checked"));
                let bad = e.error_len().unwrap_or(rest.len());
                for _ in 0..bad {
                    out.push('\u{FFFD}');
                }
                raw = &rest[bad..];
            }
        }
    }
}

/// A column of raw XDR values: binary, or base64 strings (the sink's `xdr_encoding`).
pub enum XdrColumn {
    Binary(BinaryBuilder),
    Base64(StringBuilder),
}

impl XdrColumn {
    pub fn new(binary: bool) -> Self {
        if binary {
            XdrColumn::Binary(BinaryBuilder::new())
        } else {
            XdrColumn::Base64(StringBuilder::new())
        }
    }

    pub fn append(&mut self, value: Option<&[u8]>) {
        match (self, value) {
            (XdrColumn::Binary(b), Some(v)) => b.append_value(v),
            (XdrColumn::Base64(b), Some(v)) => {
                base64_write(v, b);
                b.append_value("");
            }
            (XdrColumn::Binary(b), None) => b.append_null(),
            (XdrColumn::Base64(b), None) => b.append_null(),
        }
    }

    pub fn finish(mut self) -> ArrayRef {
        match &mut self {
            XdrColumn::Binary(b) => Arc::new(b.finish()),
            XdrColumn::Base64(b) => Arc::new(b.finish()),
        }
    }
}

/// A column of lists of raw XDR values (null for no list).
pub enum XdrListColumn {
    Binary(ListBuilder<BinaryBuilder>),
    Base64(ListBuilder<StringBuilder>),
}

impl XdrListColumn {
    pub fn new(binary: bool) -> Self {
        if binary {
            XdrListColumn::Binary(ListBuilder::new(BinaryBuilder::new()))
        } else {
            XdrListColumn::Base64(ListBuilder::new(StringBuilder::new()))
        }
    }

    pub fn append<'a>(&mut self, values: Option<impl IntoIterator<Item = &'a [u8]>>) {
        match (self, values) {
            (XdrListColumn::Binary(b), Some(vs)) => {
                for v in vs {
                    b.values().append_value(v);
                }
                b.append(true);
            }
            (XdrListColumn::Base64(b), Some(vs)) => {
                for v in vs {
                    base64_write(v, b.values());
                    b.values().append_value("");
                }
                b.append(true);
            }
            (XdrListColumn::Binary(b), None) => b.append(false),
            (XdrListColumn::Base64(b), None) => b.append(false),
        }
    }

    pub fn finish(mut self) -> ArrayRef {
        match &mut self {
            XdrListColumn::Binary(b) => Arc::new(b.finish()),
            XdrListColumn::Base64(b) => Arc::new(b.finish()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_pads_like_python() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foob"), "Zm9vYg==");
        assert_eq!(base64(b"fooba"), "Zm9vYmE=");
        // Across the 3 KiB blocks: the same as encoding in one piece.
        let long: Vec<u8> = (0..10_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let mut one_piece = String::new();
        for chunk in long.chunks(3) {
            one_piece.push_str(&base64(chunk));
        }
        assert_eq!(base64(&long), one_piece);
    }

    #[test]
    fn go_string_replaces_each_bad_byte() {
        assert_eq!(go_string(b"ok"), "ok");
        assert_eq!(go_string(b"a\xe2\x82b"), "a\u{FFFD}\u{FFFD}b");
        assert_eq!(go_string(b"\xff"), "\u{FFFD}");
        assert_eq!(go_string("é".as_bytes()), "é");
    }

    #[test]
    fn hex_is_lowercase() {
        assert_eq!(hex(&[0, 171, 255]), "00abff");
    }
}
