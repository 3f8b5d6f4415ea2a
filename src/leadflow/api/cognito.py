"""Cognito sign-in (seed 004): the API accepts the user pool's JWTs beside its own tokens.

A Cognito token is RS256-signed with one of the pool's keys, published at
`<issuer>/.well-known/jwks.json`; PyJWT's PyJWKClient fetches and caches that key set
(fetched again when a token names a key it has not seen, so key rotation works). The
token must name the configured issuer, be unexpired, and belong to the app client: an
ID token through its `aud`, an access token through its `client_id`. The owner of the
request is the token's user name (`cognito:username` / `username`), else its `sub`.
"""

from __future__ import annotations

from typing import Any

import jwt

from ..security import InvalidToken
from ..settings import Settings

ALGORITHMS = ["RS256"]  # Cognito signs with RS256 only; never accept what a token claims
JWKS_CACHE_SECONDS = 3600
JWKS_TIMEOUT = 5  # seconds to fetch the key set


class CognitoUnavailable(RuntimeError):
    """Cognito sign-in is configured but RS256 cannot be checked (no cryptography)."""


class CognitoVerifier:
    """Verifies a user pool's tokens; `owner(token)` or InvalidToken."""

    def __init__(self, issuer: str, audience: str | None) -> None:
        self.issuer = issuer
        self.audience = audience
        self.jwks = jwt.PyJWKClient(
            f"{issuer}/.well-known/jwks.json",
            cache_keys=True,
            lifespan=JWKS_CACHE_SECONDS,
            timeout=JWKS_TIMEOUT,
        )

    def owner(self, token: str) -> str:
        """The user a valid pool token names; InvalidToken with the reason otherwise."""
        try:
            key = self.jwks.get_signing_key_from_jwt(token)
        except jwt.PyJWKClientConnectionError:
            raise InvalidToken("the sign-in service's keys cannot be fetched; try again") from None
        except jwt.PyJWTError:
            raise InvalidToken("the token is not valid (unknown signing key)") from None
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=ALGORITHMS,
                issuer=self.issuer,
                options={"require": ["exp", "iss", "sub"], "verify_aud": False},
            )
        except jwt.ExpiredSignatureError:
            raise InvalidToken("the token has expired; sign in again") from None
        except jwt.InvalidIssuerError:
            raise InvalidToken("the token is from another issuer") from None
        except jwt.PyJWTError:
            raise InvalidToken("the token is not valid") from None
        self._check_client(claims)
        for name in ("cognito:username", "username", "sub"):
            value = claims.get(name)
            if isinstance(value, str) and value:
                return value
        raise InvalidToken("the token names no user")

    def _check_client(self, claims: dict[str, Any]) -> None:
        if self.audience is None:
            return
        use = claims.get("token_use")
        if use == "access":  # Cognito access tokens carry client_id, no aud
            if claims.get("client_id") != self.audience:
                raise InvalidToken("the token was issued to another client")
            return
        audience = claims.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if self.audience not in audiences:
            raise InvalidToken("the token was issued to another client (audience)")


def cognito_verifier(settings: Settings) -> CognitoVerifier | None:
    """The verifier the settings ask for; None when Cognito sign-in is not configured."""
    issuer = settings.cognito_issuer_url
    if issuer is None:
        return None
    if not jwt.algorithms.has_crypto:  # RS256 needs the cryptography package
        raise CognitoUnavailable(
            "Cognito sign-in (LEADFLOW_COGNITO_*) needs the aws extra: pip install 'leadflow[aws]'"
        )
    return CognitoVerifier(issuer, settings.cognito_audience or settings.cognito_client_id)


def is_cognito_token(token: str) -> bool:
    """Whether the token is signed the way Cognito signs (RS256), not with our HS256 key."""
    try:
        return jwt.get_unverified_header(token).get("alg") in ALGORITHMS
    except jwt.PyJWTError:
        return False
