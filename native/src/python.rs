//! The Python boundary (feature `python`): bytes in, Arrow record batches out, one exception type.
//!
//! `decode(bytes, kind)` returns a `Blob` (the decoded ledgers, kept on the Rust side), whose
//! `rows(table, positions, passphrase, binary_xdr)` builds one table's columns for the ledgers at `positions`
//! and hands them to pyarrow through Arrow's C data interface: one struct array in two PyCapsules (the Arrow
//! PyCapsule interface's names), imported without copying. The Python side puts the table's own schema
//! (names, nullability, metadata) on the columns, so the schema cannot drift from the reference's. Errors are
//! `NativeError` (a ValueError); a panic is caught here and becomes one too, never crossing into Python.

use std::panic::{catch_unwind, AssertUnwindSafe};

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyCapsule};
use std::ffi::CString;

use arrow_array::{Array, ArrayRef, StructArray};
use arrow_schema::{Field, Fields};

use crate::{ledger, records};

pyo3::create_exception!(_native, NativeError, pyo3::exceptions::PyValueError);

/// Runs `f`, turning a panic into a `NativeError` instead of letting it cross into Python.
fn guarded<T>(what: &str, f: impl FnOnce() -> PyResult<T>) -> PyResult<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(panic) => {
            let detail = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_string());
            Err(NativeError::new_err(format!(
                "internal error in the native core ({what}): {detail}"
            )))
        }
    }
}

/// The decoded ledgers of one blob (a `LedgerCloseMetaBatch`, or one `LedgerCloseMeta`), and the blob itself.
///
/// The blob is the caller's `bytes` object, referenced rather than copied: Python bytes are immutable and the
/// reference keeps them alive, so `inner`'s spans stay valid in them for the Blob's life (PyO3's
/// `Py<PyBytes>::as_bytes` hands out the slice for as long as `self` is borrowed, the GIL released or not).
#[pyclass(frozen, module = "beam_pipeline._native")]
pub struct Blob {
    inner: ledger::Decoded,
    data: Py<PyBytes>,
}

#[pymethods]
impl Blob {
    /// The batch's own start sequence (that of the ledger for a single LedgerCloseMeta).
    #[getter]
    fn start(&self) -> u32 {
        self.inner.start
    }

    #[getter]
    fn end(&self) -> u32 {
        self.inner.end
    }

    /// Sequence of each ledger, in the blob's order.
    fn sequences(&self) -> Vec<u32> {
        self.inner
            .metas
            .iter()
            .map(|m| ledger::View::new(m).sequence())
            .collect()
    }

    /// Close time (Unix seconds) of each ledger, in the blob's order.
    fn close_times(&self) -> Vec<u64> {
        self.inner
            .metas
            .iter()
            .map(|m| ledger::View::new(m).close_time())
            .collect()
    }

    /// One table's columns for the ledgers at `positions` (indices into the blob), in that order.
    ///
    /// Returns `(schema capsule, array capsule, offsets, error)`: a struct array of the columns, the row
    /// offset of each ledger's rows (len(positions) + 1 entries, or fewer when a ledger failed), and either
    /// None or `(position index, error class, message)` of the first ledger whose rows failed; the rows of the
    /// ledgers before it are in the array.
    #[pyo3(signature = (table, positions, passphrase, binary_xdr))]
    fn rows<'py>(
        &self,
        py: Python<'py>,
        table: &str,
        positions: Vec<usize>,
        passphrase: &str,
        binary_xdr: bool,
    ) -> PyResult<Bound<'py, pyo3::types::PyTuple>> {
        guarded(table, || {
            let opts = records::Options {
                passphrase: passphrase.to_string(),
                binary_xdr,
            };
            for &p in &positions {
                if p >= self.inner.metas.len() {
                    return Err(NativeError::new_err(format!("position {p} is outside the blob")));
                }
            }
            let data = self.data.as_bytes(py);
            let built = py.allow_threads(|| records::build(table, &self.inner, data, &positions, &opts));
            let built = built.map_err(NativeError::new_err)?;
            let (schema, array) = to_capsules(py, built.columns)?;
            let error = built.error.map(|e| (e.position, e.class, e.message));
            (schema, array, built.offsets, error).into_pyobject(py)
        })
    }
}

/// Decodes a blob's XDR under the crate's depth and length limits.
///
/// `kind` is "batch" (a LedgerCloseMetaBatch) or "ledger" (one LedgerCloseMeta). The Blob keeps a reference to
/// `data`, not a copy.
#[pyfunction]
fn decode(py: Python<'_>, data: Bound<'_, PyBytes>, kind: &str) -> PyResult<Blob> {
    guarded("decode", || {
        let kind = match kind {
            "batch" => ledger::Kind::Batch,
            "ledger" => ledger::Kind::Ledger,
            other => return Err(NativeError::new_err(format!("unknown blob kind {other:?}"))),
        };
        let bytes = data.as_bytes();
        let inner = py
            .allow_threads(|| ledger::decode(bytes, kind))
            .map_err(NativeError::new_err)?;
        Ok(Blob {
            inner,
            data: data.unbind(),
        })
    })
}

/// The tables this build implements natively.
#[pyfunction]
fn tables() -> Vec<&'static str> {
    records::TABLES.to_vec()
}

/// The stellar-xdr crate version and the XDR it was generated from.
#[pyfunction]
fn xdr_version() -> String {
    format!(
        "stellar-xdr {} (xdr {})",
        stellar_xdr::VERSION.pkg,
        stellar_xdr::VERSION.xdr
    )
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("NativeError", m.py().get_type::<NativeError>())?;
    m.add_class::<Blob>()?;
    m.add_function(wrap_pyfunction!(decode, m)?)?;
    m.add_function(wrap_pyfunction!(tables, m)?)?;
    m.add_function(wrap_pyfunction!(xdr_version, m)?)?;
    Ok(())
}

/// The columns as (ArrowSchema capsule, ArrowArray capsule) of one struct array.
pub fn to_capsules(py: Python<'_>, columns: Vec<ArrayRef>) -> PyResult<(Bound<'_, PyCapsule>, Bound<'_, PyCapsule>)> {
    let fields: Fields = columns
        .iter()
        .enumerate()
        .map(|(i, a)| Field::new(format!("c{i}"), a.data_type().clone(), true))
        .collect();
    let array = StructArray::try_new(fields, columns, None).map_err(|e| NativeError::new_err(e.to_string()))?;
    let (ffi_array, ffi_schema) =
        arrow_array::ffi::to_ffi(&array.to_data()).map_err(|e| NativeError::new_err(e.to_string()))?;
    let schema = PyCapsule::new(py, ffi_schema, Some(CString::new("arrow_schema").expect("no NUL")))?;
    let array = PyCapsule::new(py, ffi_array, Some(CString::new("arrow_array").expect("no NUL")))?;
    Ok((schema, array))
}
