"""The key-vault: provider API keys encrypted at rest, every access audited.

Keys are Fernet-encrypted with ``VAULT_MASTER_KEY``, which only the server environment
provides (never a request), so a copy of the database alone reveals nothing. Each read or
write leaves a ``vault_audit`` row with who, when, which provider and the outcome — never
the key. ``actor`` is who authenticated (the edge keys, the OS user of ``cogo vault set``);
what a caller says about itself (``X-Cogo-Actor``) goes to ``claimed_actor``, unverified.
Writing is a server-side CLI action (``cogo vault set``), not an HTTP endpoint.
"""

from __future__ import annotations

import re

import psycopg
from cryptography.fernet import Fernet, InvalidToken

from cogo_pipelines.settings import Settings

PROVIDER_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
MAX_KEY_LENGTH = 8192


class VaultError(RuntimeError):
    """A vault problem the caller can act on; ``status`` is the HTTP status it maps to."""

    status = 503


class VaultNotConfigured(VaultError):
    status = 503


class UnknownProvider(VaultError):
    status = 404


class InvalidProvider(VaultError):
    status = 400


def fernet_from_settings(settings: Settings) -> Fernet:
    """The cipher, or a clear error when the server has no (valid) master key."""
    if settings.vault_master_key is None or not settings.vault_master_key.get_secret_value():
        raise VaultNotConfigured(
            "key-vault is disabled: VAULT_MASTER_KEY is not set in the server environment "
            "(generate one with `python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())'`)"
        )
    try:
        return Fernet(settings.vault_master_key.get_secret_value().encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        raise VaultNotConfigured(
            "VAULT_MASTER_KEY is not a valid Fernet key (32 url-safe base64-encoded bytes)"
        ) from None


def validate_provider(provider: object) -> str:
    if not isinstance(provider, str) or not PROVIDER_RE.match(provider):
        raise InvalidProvider(
            "provider must be 1-64 characters of letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    return provider


def _audit(conn: psycopg.Connection, provider: str, action: str, actor: str, client: str | None, outcome: str,
           claimed_actor: str | None = None) -> None:
    conn.execute(
        "INSERT INTO vault_audit (provider, action, actor, client_addr, outcome, claimed_actor) "
        "VALUES (%s, %s, %s, %s, %s, %s)",
        (provider, action, actor[:200], client, outcome, claimed_actor[:200] if claimed_actor else None),
    )


def set_key(conn: psycopg.Connection, fernet: Fernet, provider: str, key: str, *, actor: str) -> None:
    """Store (or replace) a provider's key, encrypted."""
    provider = validate_provider(provider)
    key = key.strip()
    if not key:
        raise VaultError("refusing to store an empty key")
    if len(key) > MAX_KEY_LENGTH:
        raise VaultError(f"key is longer than {MAX_KEY_LENGTH} characters")
    token = fernet.encrypt(key.encode("utf-8"))
    with conn.transaction():
        conn.execute(
            "INSERT INTO vault_keys (provider, ciphertext, updated_by) VALUES (%s, %s, %s) "
            "ON CONFLICT (provider) DO UPDATE SET ciphertext = EXCLUDED.ciphertext, "
            "updated_at = now(), updated_by = EXCLUDED.updated_by",
            (provider, token, actor[:200]),
        )
        _audit(conn, provider, "set", actor, None, "ok")


def get_key(conn: psycopg.Connection, fernet: Fernet, provider: str, *, actor: str, client: str | None = None,
            claimed_actor: str | None = None) -> str:
    """Decrypt a provider's key; the access is audited whether or not it succeeds."""
    provider = validate_provider(provider)
    with conn.transaction():
        row = conn.execute("SELECT ciphertext FROM vault_keys WHERE provider = %s", (provider,)).fetchone()
        if row is None:
            _audit(conn, provider, "get", actor, client, "unknown_provider", claimed_actor)
            outcome: str | None = "unknown_provider"
            plain = None
        else:
            cipher = row["ciphertext"] if isinstance(row, dict) else row[0]
            try:
                plain = fernet.decrypt(bytes(cipher)).decode("utf-8")
                outcome = None
            except InvalidToken:
                plain = None
                outcome = "error"
            _audit(conn, provider, "get", actor, client, outcome or "ok", claimed_actor)
    if outcome == "unknown_provider":
        raise UnknownProvider(f"no key stored for provider {provider!r}")
    if plain is None:
        raise VaultError(
            f"the stored key for {provider!r} cannot be decrypted with the current VAULT_MASTER_KEY "
            "(was the master key rotated without re-encrypting?)"
        )
    return plain


def providers(conn: psycopg.Connection) -> list[str]:
    return [r["provider"] if isinstance(r, dict) else r[0] for r in conn.execute("SELECT provider FROM vault_keys ORDER BY provider")]

