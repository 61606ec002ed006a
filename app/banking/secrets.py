"""Encrypting the Fio API tokens stored with the bank accounts, with the same keys as the
gateway accounts' secrets (``app.gateway_accounts.crypto``: MultiFernet over
``SECRET_ENCRYPTION_KEYS``, the first key encrypts, every key decrypts)."""

from __future__ import annotations

from cryptography.fernet import InvalidToken

from app.gateway_accounts.crypto import SecretsUnavailable, fernet


class TokenUnreadable(Exception):
    """No key is configured, or the stored token cannot be decrypted with any of them."""


def encrypt_token(token: str) -> bytes:
    try:
        return fernet().encrypt(token.strip().encode())
    except SecretsUnavailable as exc:
        raise TokenUnreadable(str(exc)) from None


def decrypt_token(stored: bytes) -> str:
    try:
        return fernet().decrypt(bytes(stored)).decode()
    except (InvalidToken, SecretsUnavailable):
        raise TokenUnreadable("the stored Fio token cannot be decrypted with the configured keys") from None


def rotate_token(stored: bytes) -> bytes:
    """The same token encrypted with the first key (for ``flask secrets rotate``)."""
    return fernet().rotate(bytes(stored))
