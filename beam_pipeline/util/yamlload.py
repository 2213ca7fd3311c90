"""Safe YAML loading with a bound on what aliases expand to ("billion laughs")."""

from __future__ import annotations

from typing import Any

import yaml


class YamlRefused(ValueError):
    """A YAML document that is malformed or expands too far; the message says which."""


MAX_YAML_NODES = 100_000  # a job config has a few hundred; aliases may not multiply that past this


class _AliasBomb(Exception):
    pass


def _expanded_size(node: yaml.Node, memo: dict[int, int], active: set[int]) -> int:
    """How many nodes `node` becomes once every alias is expanded, counted on the shared node graph.

    PyYAML builds an alias as a reference to the anchored node, so a "billion laughs" document loads
    as a small graph and only explodes when something walks it as a tree (our ``${VAR}`` expansion,
    ``validate``'s printing). Counting with a memo is linear in the graph; a cycle expands forever.
    """
    key = id(node)
    if key in memo:
        return memo[key]
    if key in active:
        raise _AliasBomb("an alias refers to a node that contains it")
    active.add(key)
    if isinstance(node, yaml.MappingNode):
        children = [n for pair in node.value for n in pair]
    elif isinstance(node, yaml.SequenceNode):
        children = node.value
    else:
        children = []
    size = 1
    for child in children:
        size += _expanded_size(child, memo, active)
        if size > MAX_YAML_NODES:
            raise _AliasBomb(f"the document expands to more than {MAX_YAML_NODES} nodes through its aliases")
    active.discard(key)
    memo[key] = size
    return size


def load(text: str) -> Any:
    """YAML text -> plain data, refusing documents whose aliases expand past `MAX_YAML_NODES` nodes."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _expanded_size(node, {}, set())
        return loader.construct_document(node)
    except yaml.YAMLError as e:
        raise YamlRefused(f"YAML syntax error: {e}") from None
    except _AliasBomb as e:
        raise YamlRefused(f"YAML aliases: {e}; refused (a config needs no more)") from None
    except RecursionError:
        raise YamlRefused("YAML: nested too deeply; refused") from None
    finally:
        loader.dispose()
