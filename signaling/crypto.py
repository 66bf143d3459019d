"""Encryption at rest: AES-256-GCM with a key derived from the service secret.

Files (evidence, recordings) are stored as ``nonce || ciphertext+tag``; the associated
data binds each file to its purpose and id, so a file swapped on disk fails to decrypt.
"""

from __future__ import annotations

import os

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

NONCE_BYTES = 12


def derive_key(secret: str, purpose: str) -> bytes:
    """A 256-bit key for one purpose ("evidence", "audio", ...) from the service secret."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"tiaojie-at-rest-v1",
                info=purpose.encode()).derive(secret.encode())


def seal(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def unseal(key: bytes, blob: bytes, aad: bytes) -> bytes:
    """Raises ``cryptography.exceptions.InvalidTag`` if the blob was altered or misplaced."""
    return AESGCM(key).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], aad)
