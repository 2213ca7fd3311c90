"""Packaging; also what Beam's --setup_file stages to Dataflow workers."""

import os
import re
from pathlib import Path

from setuptools import find_packages, setup

try:  # the native core (native/, Rust): built when setuptools-rust and cargo are there, else skipped
    from setuptools_rust import Binding, RustExtension
except ImportError:  # an install without the build requirements of pyproject.toml: pure Python
    RustExtension = None

NATIVE = os.environ.get("STELLAR_ARCHIVE_NATIVE", "auto").strip().lower()


def rust_extensions() -> list:
    """The native core, optional: without cargo the install goes on as pure Python (and the log says so).

    STELLAR_ARCHIVE_NATIVE=0 skips it; =1 makes a failed build fail the install. Release settings (LTO, one
    codegen unit) are in native/Cargo.toml; `extension-module` keeps libpython out of the link.
    """
    if NATIVE == "0":
        return []
    if RustExtension is None:
        if NATIVE == "1":
            raise RuntimeError("STELLAR_ARCHIVE_NATIVE=1 but setuptools-rust is not installed")
        return []
    return [
        RustExtension(
            "beam_pipeline._native",
            path="native/Cargo.toml",
            binding=Binding.PyO3,
            features=["extension-module"],
            py_limited_api="cp310",
            optional=NATIVE != "1",
            debug=False,
        )
    ]


RUST_EXTENSIONS = rust_extensions()

VERSION = re.search(r'__version__ = "([^"]+)"', Path(__file__).with_name("beam_pipeline").joinpath("__init__.py").read_text())[1]

# The Beam version is pinned exactly: the flex template image uses the SDK container of this version
# (templates/flex/Dockerfile), and a test checks that the two agree.
BEAM_VERSION = "2.77.0"

# Tested with deltalake 1.6 (RemoveAction in create_write_transaction) and pyiceberg 0.12.
TABLE_FORMATS = ["deltalake>=1.6,<2", "pyiceberg[sql-sqlite]>=0.12,<1"]

setup(
    name="stellar-beam-archive",
    version=VERSION,
    description="Archive Stellar ledgers (SEP-54 data lakes, Stellar RPC) to partitioned Parquet with Apache Beam",
    packages=find_packages(include=["beam_pipeline", "beam_pipeline.*"]),
    python_requires=">=3.10",
    install_requires=[
        f"apache-beam[gcp,aws]=={BEAM_VERSION}",
        "pyarrow>=14,<26",  # Beam 2.77 requires pyarrow < 26
        "stellar-sdk>=13,<17",
        "pyyaml>=6,<7",
        "zstandard>=0.22,<1",
        "pyfarmhash>=0.5,<1",  # FarmHash Fingerprint64: stellar-etl's asset_id, bit for bit
        "duckdb>=1.1",  # verify and query read archives of any size without loading them whole
    ],
    extras_require={
        "bench": ["matplotlib>=3.7"],  # only for the benchmark plot
        # The SaveToPostgreSQL and SaveToRedis consumers' clients (installed where those consumers run).
        "postgres": ["psycopg[binary]>=3.1,<4"],
        "redis": ["redis>=5,<9"],
        # table_format: delta | iceberg (sinks/table_formats): delta-rs writes the Delta log, pyiceberg the
        # Iceberg metadata and (sql-sqlite) the archive's own SQLite catalog.
        "tables": TABLE_FORMATS,
        "test": [
            "pytest>=8",
            "pytest-timeout>=2.3",
            "moto[server]>=5",
            "gcp-storage-emulator>=2024.8",
            "psycopg[binary]>=3.1,<4",
            "redis>=5,<9",
            # tests/test_readers.py reads the archive as analysts do (Java 17 for pyspark's local JVM)
            "pandas>=2",
            "polars>=1",
            "pyspark>=3.5",
            *TABLE_FORMATS,  # tests/sinks/test_table_formats.py reads the Delta and Iceberg tables back
        ],
    },
    rust_extensions=RUST_EXTENSIONS,
    # The extension uses the stable ABI (abi3), so one wheel serves every Python from 3.10 on.
    options={"bdist_wheel": {"py_limited_api": "cp310"}} if RUST_EXTENSIONS else {},
    zip_safe=False,
    entry_points={"console_scripts": ["stellar-archive=beam_pipeline.cli:main"]},
)
