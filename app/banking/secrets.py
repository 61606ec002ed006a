"""Encrypting the Fio API tokens stored with the bank accounts.

MultiFernet over ``BANK_TOKEN_KEYS`` (newest key first, so keys can be rotated: old tokens
still decrypt, ``rotate_token`` re-encrypts with the newest); without keys, one derived from
``SECRET_KEY``. Kept behind two functions so a shared secrets helper (the gateway accounts'
one) can replace it without touching the callers."""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app


class TokenUnreadable(Exception):
    """The stored token cannot be decrypted with any configured key."""


def _fernet() -> MultiFernet:
    keys = list(current_app.config.get("BANK_TOKEN_KEYS") or [])
    if not keys:
        digest = hashlib.sha256(b"bank-token:" + str(current_app.config["SECRET_KEY"]).encode()).digest()
        keys = [base64.urlsafe_b64encode(digest).decode()]
    return MultiFernet([Fernet(key) for key in keys])


def encrypt_token(token: str) -> bytes:
    return _fernet().encrypt(token.strip().encode())


def decrypt_token(stored: bytes) -> str:
    try:
        return _fernet().decrypt(bytes(stored)).decode()
    except InvalidToken:
        raise TokenUnreadable("the stored Fio token cannot be decrypted with the configured keys") from None


def rotate_token(stored: bytes) -> bytes:
    return _fernet().rotate(bytes(stored))
