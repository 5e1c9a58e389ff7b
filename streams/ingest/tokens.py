"""The ingest's bearer tokens: each has a name (for metrics and logs); checked in constant time."""

from __future__ import annotations

import hmac
from dataclasses import dataclass

__all__ = ["TokenError", "Tokens", "parse_tokens"]

_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")


class TokenError(ValueError):
    """A token list that cannot be read; the message names the entry, never the token."""


@dataclass(frozen=True)
class Tokens:
    """Named tokens; empty means the endpoint is open."""

    pairs: tuple[tuple[str, bytes], ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.pairs)

    def match(self, authorization: str | None) -> str | None:
        """The name of the token in an ``Authorization: Bearer ...`` header, else None.

        Every token is compared (hmac.compare_digest), so the time taken does not say which
        one came close.
        """
        if authorization is None:
            return None
        scheme, _, given = authorization.partition(" ")
        if scheme.lower() != "bearer" or not given.strip():
            return None
        offered = given.strip().encode()
        found = None
        for name, token in self.pairs:
            if hmac.compare_digest(offered, token) and found is None:
                found = name
        return found


def parse_tokens(*texts: str) -> Tokens:
    """``name:token`` entries separated by commas or new lines; a line starting with
    ``#`` is a comment."""
    pairs: list[tuple[str, bytes]] = []
    for text in texts:
        for number, line in enumerate(text.replace(",", "\n").splitlines(), 1):
            entry = line.strip()
            if not entry or entry.startswith("#"):
                continue
            name, sep, token = entry.partition(":")
            name, token = name.strip(), token.strip()
            if not sep or not name or not token:
                raise TokenError(f"token entry {number} must be name:token")
            if not set(name) <= _NAME_CHARS or len(name) > 64:
                raise TokenError(f"token name {name!r}: 1-64 letters, digits, '_', '.' or '-'")
            if name in (n for n, _ in pairs):
                raise TokenError(f"token name {name!r} is given twice")
            pairs.append((name, token.encode()))
    return Tokens(tuple(pairs))
