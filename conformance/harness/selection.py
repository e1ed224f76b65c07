"""Selecting scenarios: `-k EXPR` (as pytest's: words joined by and / or / not and parentheses,
a word matching case-insensitively as a substring of the scenario id or title, or a tag) and
`--tag TAG` (any of the given tags)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence

from conformance.harness.scenario import Scenario

_TOKEN = re.compile(r"\s*(\(|\)|[^\s()]+)")
Predicate = Callable[[Scenario], bool]


class SelectionError(ValueError):
    """A malformed -k expression."""


def _word(word: str) -> Predicate:
    needle = word.lower()
    return lambda s: needle in s.id.lower() or needle in s.title.lower() or needle in s.tags


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _TOKEN.findall(text)
        self.pos = 0

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> str:
        token = self.peek()
        if token is None:
            raise SelectionError(f"-k {self.text!r}: unexpected end of expression")
        self.pos += 1
        return token

    def parse(self) -> Predicate:
        predicate = self.or_()
        if self.peek() is not None:
            raise SelectionError(f"-k {self.text!r}: unexpected {self.peek()!r}")
        return predicate

    def or_(self) -> Predicate:
        left = self.and_()
        while self.peek() == "or":
            self.take()
            left = (lambda a, b: lambda s: a(s) or b(s))(left, self.and_())
        return left

    def and_(self) -> Predicate:
        left = self.not_()
        while self.peek() == "and":
            self.take()
            left = (lambda a, b: lambda s: a(s) and b(s))(left, self.not_())
        return left

    def not_(self) -> Predicate:
        if self.peek() == "not":
            self.take()
            inner = self.not_()
            return lambda s: not inner(s)
        return self.atom()

    def atom(self) -> Predicate:
        token = self.take()
        if token == "(":
            inner = self.or_()
            if self.peek() != ")":
                raise SelectionError(f"-k {self.text!r}: missing ')'")
            self.take()
            return inner
        if token in (")", "and", "or", "not"):
            raise SelectionError(f"-k {self.text!r}: unexpected {token!r}")
        return _word(token)


def keyword_predicate(expression: str) -> Predicate:
    if not expression.strip():
        raise SelectionError("-k needs an expression, e.g. -k 'issuance and not notarization'")
    return _Parser(expression).parse()


def select(scenarios: Iterable[Scenario], *, keyword: str | None = None,
           tags: Sequence[str] = ()) -> list[Scenario]:
    chosen = list(scenarios)
    if keyword:
        predicate = keyword_predicate(keyword)
        chosen = [s for s in chosen if predicate(s)]
    if tags:
        wanted = set(tags)
        chosen = [s for s in chosen if wanted & set(s.tags)]
    return chosen
