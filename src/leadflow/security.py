"""Passwords (argon2id, memory-hard) and access tokens (JWT, HS256)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
import secrets
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from .clock import utc_datetime

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


def password_mark(password_hash: str) -> str:
    """A short fingerprint of a stored password hash, carried in tokens as `pwd`.

    argon2 salts every hash, so setting a password again (even the same one) changes the
    mark and every token issued before no longer matches. The hash itself never leaves
    the server: only 16 hex digits of its SHA-256.
    """
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


def mark_matches(mark: str, password_hash: str | None) -> bool:
    """Whether a token's password mark is that of the password stored now.

    False when the user is gone (`password_hash` None) or their password was set since
    the token was issued: such a token no longer signs anybody in.
    """
    return password_hash is not None and hmac.compare_digest(mark, password_mark(password_hash))


@dataclass(frozen=True, slots=True)
class TokenClaims:
    """What a valid token says: its user and, when issued at login, the password mark."""

    username: str
    password_mark: str | None


def issue_token(
    secret: str, username: str, ttl_seconds: int, password_hash: str | None = None
) -> str:
    """A signed JWT for `username`, valid `ttl_seconds`; with `password_hash` it carries
    that hash's mark and dies when the password is reset."""
    now = utc_datetime()
    claims: dict[str, object] = {
        "sub": username,
        "iat": now,
        "exp": now + dt.timedelta(seconds=ttl_seconds),
    }
    if password_hash is not None:
        claims["pwd"] = password_mark(password_hash)
    return jwt.encode(claims, secret, algorithm="HS256")


def read_token(secret: str, token: str) -> str:
    """The username a valid token was issued to."""
    return read_token_claims(secret, token).username


def read_token_claims(secret: str, token: str) -> TokenClaims:
    """The claims of a valid token; InvalidToken when forged, malformed or expired."""
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
    mark = claims.get("pwd")
    return TokenClaims(subject, mark if isinstance(mark, str) else None)


@lru_cache(maxsize=4096)
def _verified(secret: str, token: str) -> tuple[TokenClaims | None, float, str]:
    try:
        claims = read_token_claims(secret, token)
    except InvalidToken as exc:
        return None, 0.0, str(exc)
    expires = jwt.decode(token, options={"verify_signature": False})["exp"]
    return claims, float(expires), ""


def read_token_claims_cached(secret: str, token: str) -> TokenClaims:
    """read_token_claims, remembering the last 4,096 tokens' verdicts.

    A client sends the same token with every request: checking its HMAC and parsing it
    once is enough. The expiry is still compared with the clock on every call.
    """
    claims, expires, problem = _verified(secret, token)
    if claims is None:
        raise InvalidToken(problem)
    if time.time() >= expires:
        raise InvalidToken("the token has expired; ask for a new one at /v1/auth/token")
    return claims


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
