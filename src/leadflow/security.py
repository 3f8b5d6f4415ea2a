"""Passwords (argon2id, memory-hard) and access tokens (JWT, HS256)."""

from __future__ import annotations

import datetime as dt
import os
import secrets
from pathlib import Path

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
_dummy_hash: str | None = None


def _dummy() -> str:
    """A hash to verify against when the user does not exist, so timing is the same.

    Made on first use: hashing is deliberately slow, and most commands never log in.
    """
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = _hasher.hash(secrets.token_hex(16))
    return _dummy_hash


class InvalidToken(ValueError):
    """The bearer token is missing, malformed, forged or expired."""


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _dummy(), password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def issue_token(secret: str, username: str, ttl_seconds: int) -> str:
    now = dt.datetime.now(dt.UTC)
    claims = {"sub": username, "iat": now, "exp": now + dt.timedelta(seconds=ttl_seconds)}
    return jwt.encode(claims, secret, algorithm="HS256")


def read_token(secret: str, token: str) -> str:
    """The username a valid token was issued to."""
    try:
        claims = jwt.decode(
            token, secret, algorithms=["HS256"], options={"require": ["exp", "sub"]}
        )
    except jwt.ExpiredSignatureError:
        raise InvalidToken("the token has expired; ask for a new one at /v1/auth/token") from None
    except jwt.PyJWTError:
        raise InvalidToken("the token is not valid") from None
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise InvalidToken("the token names no user")
    return subject


def load_or_create_secret(data_dir: Path) -> str:
    """The signing key kept in the data directory, created (mode 600) on first start.

    Several processes may start at once: each writes its own temporary file and links it
    into place, which succeeds for exactly one of them; the others read the winner's key.
    """
    path = data_dir / "secret.key"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        tmp = data_dir / f".secret.key.{os.getpid()}.tmp"
        tmp.write_text(secrets.token_urlsafe(48))
        tmp.chmod(0o600)
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text().strip()
