"""``${VAR}`` and ``${VAR:-default}`` in config strings: expanded into text that the key will type.

Kept apart from `config` so that the rule is in one place: an expanded value stays text (`EnvText`)
until the key it lands in decides its type, and an error about it names the reference, never the
value (it may be a token).
"""

from __future__ import annotations

import os
import re
from typing import Any

_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class EnvText(str):
    """A string built from ``${VAR}`` references: typed by the key it lands in, never shown in errors.

    The old rule re-typed a whole-value reference through YAML, so a numeric token became an int,
    was refused for a string key (``auth_header``) and printed in that refusal. Now the key decides:
    a string key keeps the text, a number key parses it, and errors name the reference, not the value.
    """

    template: str

    def __new__(cls, value: str, template: str = ""):
        obj = super().__new__(cls, value)
        obj.template = template
        return obj

    def __reduce__(self):  # pickles as the plain string it is
        return (str, (str(self),))


def expand_env(value: Any, path: str, problems: list[str]) -> Any:
    """Expands ${VAR} and ${VAR:-default} in string scalars into `EnvText`, typed later by the key."""
    if isinstance(value, dict):
        return {k: expand_env(v, f"{path}.{k}" if path else str(k), problems) for k, v in value.items()}
    if isinstance(value, list):
        return [expand_env(v, f"{path}[{i}]", problems) for i, v in enumerate(value)]
    if not isinstance(value, str) or "${" not in value:
        return value

    def sub(m: re.Match) -> str:
        name, default = m.group(1), m.group(2)
        value = os.environ.get(name)
        # As the shell: ${VAR:-default} takes the default when VAR is unset or empty.
        if value is not None and (value or default is None):
            return value
        if default is not None:
            return default
        problems.append(f"{path}: environment variable {name} is not set and has no default")
        return ""

    return EnvText(_ENV.sub(sub, value), value)


def shown(v: Any) -> str:
    """How a bad value appears in an error: its type and repr, or for `EnvText` only its template."""
    if isinstance(v, EnvText):
        return f"{v.template!r} (its value is not shown)"
    return f"{type(v).__name__} {v!r}"
