"""Passwords are stored as argon2id hashes at the library's default cost. The tests hash
with the cheapest parameters (tests/conftest.py, ``pytest_configure``); this file checks
what production uses, and that hashes of either cost verify."""

from __future__ import annotations

from signaling import credentials


def test_the_service_hashes_passwords_with_argon2id_at_the_library_defaults() -> None:
    # Made when the module was imported, by the hasher the service uses (before the tests
    # swapped in a cheap one): its parameters are those of every stored password.
    assert credentials.DUMMY_PASSWORD_HASH.startswith("$argon2id$v=19$m=65536,t=3,p=4$")


def test_a_password_verifies_whatever_the_cost_it_was_hashed_at() -> None:
    assert credentials.verify_password(credentials.DUMMY_PASSWORD_HASH, "not-a-real-password")
    cheap = credentials.hash_password("correct horse")
    assert cheap.startswith("$argon2id$")
    assert credentials.verify_password(cheap, "correct horse")
    assert not credentials.verify_password(cheap, "correct horsE")
    assert not credentials.verify_password("not a hash", "correct horse")
