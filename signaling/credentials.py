"""Credentials. Tokens and passwords: random bearer tokens stored as hashes, argon2 for
passwords."""

from __future__ import annotations

import hashlib
import hmac
import secrets as _secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

TOKEN_BYTES = 24
"""192 bits of randomness for join links, login sessions and resume tokens."""

_hasher = PasswordHasher()


def new_token() -> str:
    return _secrets.token_urlsafe(TOKEN_BYTES)


def hash_token(token: str) -> str:
    """SHA-256 hex of a bearer token: what the database stores and looks up by."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def tokens_equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# A hash to verify against when the user does not exist, so that timing does not
# reveal which usernames are real.
DUMMY_PASSWORD_HASH = _hasher.hash("not-a-real-password")
