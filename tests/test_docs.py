"""The README and generated docs stay true: schemas, config keys, tables and SQL examples."""

from __future__ import annotations

import dataclasses
import re

import pytest

from beam_pipeline import query, schemas
from beam_pipeline.config import DatastoreSourceConfig, ParquetSinkConfig, RpcSourceConfig
from beam_pipeline.consumers import DuckDBSinkConfig, PostgresSinkConfig, RedisSinkConfig, StdoutSinkConfig
from beam_pipeline.records import table_names
from beam_pipeline.sample import write_sample_datastore
from tests.harness import REPO, job_config, run_job

README = (REPO / "README.md").read_text()


def test_docs_tables_md_is_the_schemas_command_output():
    assert (REPO / "docs" / "tables.md").read_text() == schemas.markdown(), (
        "docs/tables.md is stale: run python -m beam_pipeline schemas --out docs/tables.md"
    )


@pytest.mark.parametrize("cls", [DatastoreSourceConfig, RpcSourceConfig, ParquetSinkConfig, PostgresSinkConfig,
                                 DuckDBSinkConfig, RedisSinkConfig, StdoutSinkConfig])
def test_every_config_key_is_documented_in_the_readme(cls):
    documented = set(re.findall(r"`([a-z_0-9]+)`", README))
    missing = [f.name for f in dataclasses.fields(cls) if f.name not in documented]
    assert not missing, f"README does not document {cls.__name__} keys {missing}"


def test_every_table_is_listed_in_the_readme():
    listed = set(re.findall(r"`([a-z_]+)`", README.split("## Tables", 1)[1].split("## Querying", 1)[0]))
    assert set(table_names()) <= listed


@pytest.fixture(scope="module")
def sample_archive(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("readme")
    store = tmp / "store"
    write_sample_datastore(str(store))
    out = tmp / "archive"
    tables = ["ledgers", "transactions", "operations", "trades", "token_transfers", "effects"]
    assert run_job(job_config(str(store), 2, 65, out, tables), tmp) == 0
    return out


SQL_BLOCKS = re.findall(r"```sql\n(.*?)```", README, re.S)


def test_readme_has_sql_examples():
    assert len(SQL_BLOCKS) >= 3


@pytest.mark.parametrize("sql", SQL_BLOCKS)
def test_readme_sql_examples_run_on_the_sample_archive(sql, sample_archive):
    sql = sql.replace("'archive/", f"'{sample_archive}/")
    rows = query.connect(str(sample_archive)).sql(sql).fetchall()
    assert rows, sql
    if "FROM token_transfers" in sql:  # fees, payments, the issuer's mints and the trade's transfers
        assert {r[0] for r in rows} == {"fee", "mint", "transfer"}
    if "FROM ledgers GROUP BY 1" in sql:
        assert sum(r[1] for r in rows) == 64  # every sample ledger counted once
    if "FROM trades" in sql:
        assert rows == [("USD", "native", 12, 600.0, 2.0)]  # the sample's twelve 50 USD -> 100 XLM fills


def test_the_development_layout_names_every_module_and_package_that_exists():
    """The README's layout block and the tree agree: every top-level module or package of
    beam_pipeline/ is named, and every ``name.py`` or ``name/`` it names exists where it says."""
    block = README.split("## Development", 1)[1].split("```", 2)[1]
    package = REPO / "beam_pipeline"
    top = {p.name for p in package.iterdir() if p.suffix == ".py" or (p / "__init__.py").exists()}
    top.discard("__init__.py")
    named = set(re.findall(r"([A-Za-z_]\w*(?:/\w+)*(?:\.py|/))", block))
    missing = {n for n in top if (n if n.endswith(".py") else n + "/") not in named}
    assert not missing, f"README's Development layout omits {sorted(missing)}"
    places = [package, *[p for p in package.rglob("*") if p.is_dir()], REPO, REPO.parent]
    places += [REPO / "templates" / "flex", REPO / "tests"]
    for name in named:
        path = name.rstrip("/")
        assert any((where / path).exists() for where in places), f"README names {name}, which does not exist"
