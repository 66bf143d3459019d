"""The short id printed on a sealed document for the public verify page.

Ten characters of Crockford's base32 (no I, L, O, U): 50 random bits, easy to read out
and type from paper. Input is forgiving the way Crockford intends: case, spaces and
hyphens are ignored, and O, I and L read as 0, 1 and 1.
"""

from __future__ import annotations

import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 10
_READS_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})


def new_short_id() -> str:
    """A fresh random short id."""
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def normalise_short_id(text: str) -> str | None:
    """The canonical form of what someone typed, or None if it cannot be a short id."""
    cleaned = text.strip().upper().replace("-", "").replace(" ", "").translate(_READS_AS)
    if len(cleaned) != LENGTH or any(c not in ALPHABET for c in cleaned):
        return None
    return cleaned


def display_short_id(short_id: str) -> str:
    """As printed: two groups of five (``ABCDE-FGHJK``)."""
    return f"{short_id[:5]}-{short_id[5:]}"
