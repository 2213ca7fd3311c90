"""The package's shape, read from its source with `ast`: no private imports, no cycles between packages.

A private name (``_x``) is a module's own business; importing it from another module ties the two
together where no reader looks. A cycle between packages means neither can be understood, tested
or replaced alone (the decode step and the sinks used to import each other).
"""

from __future__ import annotations

import ast
import functools
import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

from tests.harness import REPO

PACKAGE = REPO / "beam_pipeline"



def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def parse_imports(path: Path) -> list[tuple[str, str | None]]:
    """(module, imported name or None) for every import in the file, relative ones resolved."""
    me = module_name(path)
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out.extend((alias.name, None) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            out.extend((base, alias.name) for alias in node.names)
    return out


@functools.cache
def _imports_of_every_module() -> dict[str, list[tuple[str, str | None]]]:
    """`parse_imports` of every module, parsed in a child interpreter.

    CPython 3.11 keeps the AST converter's recursion depth per interpreter, not per thread
    (python/cpython#106905): in the suite's process an `ast.parse` can race a thread an earlier test
    left running and fail with "AST constructor recursion depth mismatch".
    """
    child = ("import json, sys; from tests.test_structure import parse_imports, sources; "
             "json.dump({str(p): parse_imports(p) for p in sources().values()}, sys.stdout)")
    done = subprocess.run([sys.executable, "-c", child], cwd=REPO, capture_output=True, text=True, check=True)
    return {path: [tuple(i) for i in found] for path, found in json.loads(done.stdout).items()}


def imports(path: Path) -> list[tuple[str, str | None]]:
    return _imports_of_every_module()[str(path)]


def sources() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def private_imports() -> set[tuple[str, str, str]]:
    """(importer, module, name) for every import of a private name from outside its home."""
    found = set()
    for me, path in sources().items():
        for module, name in imports(path):
            if not module.startswith("beam_pipeline"):
                continue
            target = f"{module}.{name}" if name else module
            if any(is_private(part) for part in target.split(".")) and not _at_home(me, _home_of(target)):
                found.add((me, module, name or ""))
    return found


def test_no_module_imports_a_private_name_of_another():
    unexpected = private_imports()
    assert not unexpected, "private names imported from other modules:\n" + "\n".join(map(str, sorted(unexpected)))


def _home_of(target: str) -> str:
    """Where a private name may be used: under the parent of the first private part of its path.

    ``beam_pipeline.records.changes._extract.ledger_key``: anywhere in ``beam_pipeline.records.changes``
    (a package's private module is shared by its modules); ``beam_pipeline.sinks.parquet._Layout``: in
    ``beam_pipeline.sinks.parquet`` alone (checked by `_at_home`, which also admits the package itself).
    """
    parts = target.split(".")
    first = next(i for i, part in enumerate(parts) if is_private(part))
    return ".".join(parts[:first])


def _at_home(module: str, home: str) -> bool:
    return module == home or module.startswith(home + ".") and home in _packages()


def _packages() -> set[str]:
    return {m for m, p in sources().items() if p.name == "__init__.py"}


def unit_of(module: str) -> str:
    """The unit of layering: a top-level package (``beam_pipeline.sinks``) or top-level module
    (``beam_pipeline.decode``); ``beam_pipeline`` itself for the package's ``__init__``."""
    return ".".join(module.split(".")[:2])


def package_graph() -> dict[str, set[str]]:
    """unit -> the units it imports from, at module level or inside functions alike."""
    modules = sources()
    graph: dict[str, set[str]] = defaultdict(set)
    for me, path in modules.items():
        for module, name in imports(path):
            if not module.startswith("beam_pipeline"):
                continue
            # ``from beam_pipeline import verify`` imports the module beam_pipeline.verify.
            target = f"{module}.{name}" if f"{module}.{name}" in modules else module
            if unit_of(target) != unit_of(me):
                graph[unit_of(me)].add(unit_of(target))
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one package (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_no_import_cycles_between_packages():
    found = cycles(package_graph())
    assert not found, f"packages importing each other: {found}"


def test_the_checks_see_what_they_look_for():
    """The walkers find real imports (so an empty result above means something)."""
    graph = package_graph()
    assert "beam_pipeline.sinks" in graph["beam_pipeline.pipeline"]
    assert "beam_pipeline.verify" in graph["beam_pipeline.cli"]  # from beam_pipeline import verify
    assert cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b"]]
    assert _home_of("beam_pipeline.sinks.parquet._Layout") == "beam_pipeline.sinks.parquet"
    assert _home_of("beam_pipeline.records.changes._extract.ledger_key") == "beam_pipeline.records.changes"
    assert _at_home("beam_pipeline.records.changes.offers", "beam_pipeline.records.changes")
    assert not _at_home("beam_pipeline.sinks.streaming", "beam_pipeline.sinks.parquet")
