"""`${...}` templating of step inputs and dotted-path captures from step results.

Names a template may use:
- `${name}` / `${name.member.0}`: scenario `vars:` and values captured by earlier steps;
- `${random.hex8}`, `${random.hex16}`, `${random.hex32}`, `${random.uuid}`, `${random.int}`:
  drawn from the scenario's seeded rng, so `--seed` replays a run;
- `${target.config.<name>}` (credential configuration ids), `${target.url.<role>}`,
  `${target.api_key.<role>}` (redacted in reports), `${target.name}`;
- `${webhooks.url}` when the scenario declares `webhooks: true`;
- `${env.NAME}`: target files only (secrets come from the environment, never from scenarios).

A string that is exactly one `${...}` keeps the referenced value's type (a captured object
stays an object); anywhere else the value is interpolated as text. `$${` writes a literal `${`.
"""

from __future__ import annotations

import random
import re
import uuid
from collections.abc import Callable, Iterator, Mapping
from typing import Any

_REF = re.compile(r"\$\$\{|\$\{([^{}]*)\}")
_WHOLE = re.compile(r"\$\{([^{}]*)\}")
BUILTIN_NAMESPACES = ("random", "target", "webhooks")

RANDOM: dict[str, Callable[[random.Random], Any]] = {
    "hex8": lambda rng: f"{rng.getrandbits(32):08x}",
    "hex16": lambda rng: f"{rng.getrandbits(64):016x}",
    "hex32": lambda rng: f"{rng.getrandbits(128):032x}",
    "uuid": lambda rng: str(uuid.UUID(int=rng.getrandbits(128), version=4)),
    "int": lambda rng: rng.randrange(1, 1_000_000),
}


class TemplateError(Exception):
    """An unknown `${name}`: names the variable, where it was used and what is known."""

    def __init__(self, variable: str, where: str, known: list[str] | None = None,
                 detail: str | None = None) -> None:
        message = f"{where}: unknown variable ${{{variable}}}"
        if detail:
            message += f" ({detail})"
        if known is not None:
            message += f"; known: {', '.join(sorted(known)) or 'none'}"
        super().__init__(message)
        self.variable, self.where = variable, where


Lookup = Callable[[str], Any]


def render(value: Any, lookup: Lookup) -> Any:
    """`value` with every `${...}` replaced; containers are rendered deeply (a new copy)."""
    if isinstance(value, str):
        whole = _WHOLE.fullmatch(value)
        if whole:
            return lookup(whole.group(1).strip())
        return _REF.sub(lambda m: "${" if m.group(1) is None else _text(lookup(m.group(1).strip())), value)
    if isinstance(value, Mapping):
        return {k: render(v, lookup) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [render(v, lookup) for v in value]
    return value


def references(value: Any) -> Iterator[str]:
    """Every name referenced by `${...}` in `value` (for checking scenarios before a run)."""
    if isinstance(value, str):
        for m in _REF.finditer(value):
            if m.group(1) is not None:
                yield m.group(1).strip()
    elif isinstance(value, Mapping):
        for v in value.values():
            yield from references(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from references(v)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


class Scope:
    """Resolves names for one step: captured vars, seeded randomness, the target, webhooks."""

    def __init__(self, vars: Mapping[str, Any], rng: random.Random, where: str, *,
                 target: Any = None, webhooks_url: str | None = None) -> None:
        self.vars, self.rng, self.where = vars, rng, where
        self.target, self.webhooks_url = target, webhooks_url

    def __call__(self, name: str) -> Any:
        head, _, rest = name.partition(".")
        resolver = _NAMESPACES.get(head)
        if resolver is not None:
            return resolver(self, name, rest)
        if head not in self.vars:
            raise TemplateError(name, self.where, [*self.vars, *BUILTIN_NAMESPACES])
        if not rest:
            return self.vars[head]
        try:
            return dig(self.vars[head], rest)
        except LookupError as exc:
            raise TemplateError(name, self.where, detail=str(exc)) from None

    def _random(self, name: str, rest: str) -> Any:
        generator = RANDOM.get(rest)
        if generator is None:
            raise TemplateError(name, self.where, [f"random.{k}" for k in RANDOM])
        return generator(self.rng)

    def _target(self, name: str, rest: str) -> Any:
        if self.target is None:
            raise TemplateError(name, self.where, detail="no target in this context")
        kind, _, key = rest.partition(".")
        table = _target_tables(self.target).get(kind)
        if table is None:
            raise TemplateError(name, self.where, [f"target.{k}" for k in _target_tables(self.target)])
        if kind == "name":
            return table
        if key not in table:
            raise TemplateError(name, self.where, [f"target.{kind}.{k}" for k in table],
                                detail=f"the target defines no {kind} {key!r}")
        return table[key]

    def _webhooks(self, name: str, rest: str) -> Any:
        if rest != "url" or self.webhooks_url is None:
            raise TemplateError(name, self.where, detail="declare `webhooks: true` in the "
                                "scenario to get a receiver; its URL is ${webhooks.url}")
        return self.webhooks_url


_NAMESPACES: dict[str, Callable[[Scope, str, str], Any]] = {
    "random": Scope._random,
    "target": Scope._target,
    "webhooks": Scope._webhooks,
}


def _target_tables(target: Any) -> dict[str, Any]:
    roles = getattr(target, "roles", {}) or {}
    return {
        "name": getattr(target, "name", ""),
        "config": dict(getattr(target, "config_ids", {}) or {}),
        "url": {role: ep.base_url for role, ep in roles.items()},
        "api_key": {role: ep.api_key for role, ep in roles.items() if ep.api_key},
    }


# --- captures -------------------------------------------------------------------------------

def dig(value: Any, path: str) -> Any:
    """Follow a dotted path (`a.b.0.c`) into nested objects/arrays; LookupError says where it stopped."""
    current, walked = value, []
    for part in path.split(".") if path else []:
        if isinstance(current, Mapping):
            if part not in current:
                raise LookupError(f"no member {part!r} at {'.'.join(walked) or 'the top'} "
                                  f"(members: {', '.join(map(str, list(current)[:12])) or 'none'})")
            current = current[part]
        elif isinstance(current, list | tuple) and part.lstrip("-").isdigit():
            index = int(part)
            if not -len(current) <= index < len(current):
                raise LookupError(f"index {index} out of range at {'.'.join(walked) or 'the top'} "
                                  f"(array of {len(current)})")
            current = current[index]
        else:
            raise LookupError(f"cannot take {part!r} of a {type(current).__name__} at "
                              f"{'.'.join(walked) or 'the top'}")
        walked.append(part)
    return current
