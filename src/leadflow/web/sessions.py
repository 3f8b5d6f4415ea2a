"""Browser sessions: a signed, HttpOnly, SameSite=Strict cookie, and CSRF tokens.

The session cookie holds an access token (the API's JWT, signed with the secret key,
with the password's mark as POST /v1/auth/token issues it), so a session ends when the
token expires or the password is set again, and no session table is needed. CSRF uses a
second random cookie: each form carries an HMAC of it under the secret key, which a
page on another site can neither read nor compute (and SameSite=Strict keeps both
cookies off cross-site requests in the first place).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from fastapi import Request
from starlette.responses import Response

from ..ports import UserStore
from ..security import InvalidToken, issue_token, mark_matches, read_token_claims_cached

SESSION_COOKIE = "leadflow_session"
CSRF_COOKIE = "leadflow_csrf"
CSRF_FIELD = "csrf"
CSRF_HEADER = "X-CSRF-Token"
SESSION_SECONDS = 12 * 3600  # a working day; signing in again costs one form
NEXT_COOKIE = "leadflow_next"  # the page to go back to after signing in again
NEXT_SECONDS = 15 * 60


class SignInRequired(Exception):
    """The request has no valid session: the browser goes to the sign-in page."""


class CsrfFailed(Exception):
    """A state-changing request without the right CSRF token."""


def session_user(request: Request, secret: str, users: UserStore) -> str | None:
    """The signed-in user of the request, or None.

    Checked as the API checks a token from POST /v1/auth/token: the cookie carries the
    mark of the password hash it was issued under, so setting a password again (`leadflow
    users passwd`, `users add`) or removing the user ends every session issued before.
    A session cookie without a mark is not accepted.
    """
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    try:
        claims = read_token_claims_cached(secret, token)
    except InvalidToken:
        return None
    if claims.password_mark is None:
        return None
    if not mark_matches(claims.password_mark, users.password_hash(claims.username)):
        return None
    return claims.username


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def start_session(
    response: Response, request: Request, secret: str, username: str, password_hash: str
) -> None:
    """Set the session cookie for `username`, signed in with the password whose stored
    hash is `password_hash` (the cookie ends when that password is set again)."""
    response.set_cookie(
        SESSION_COOKIE,
        issue_token(secret, username, SESSION_SECONDS, password_hash),
        max_age=SESSION_SECONDS,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
        path="/",
    )


def end_session(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")


def csrf_seed(request: Request) -> tuple[str, bool]:
    """The browser's CSRF cookie value, and whether it is new (must be set)."""
    seed = request.cookies.get(CSRF_COOKIE)
    if seed and 20 <= len(seed) <= 100:
        return seed, False
    return secrets.token_urlsafe(24), True


def set_csrf_cookie(response: Response, request: Request, seed: str) -> None:
    response.set_cookie(
        CSRF_COOKIE, seed, httponly=True, samesite="strict", secure=_secure(request), path="/"
    )


def csrf_token(secret: str, seed: str) -> str:
    """The token forms carry: HMAC-SHA256 of the browser's CSRF cookie."""
    return hmac.new(secret.encode(), b"csrf:" + seed.encode(), hashlib.sha256).hexdigest()


def check_csrf(request: Request, secret: str, sent: str | None) -> None:
    """CsrfFailed unless `sent` (form field or header) matches the browser's cookie."""
    seed = request.cookies.get(CSRF_COOKIE)
    if not seed or not sent or not hmac.compare_digest(csrf_token(secret, seed), sent):
        raise CsrfFailed("the form has expired or did not come from this site; reload the page")


def safe_next(value: str | None) -> str | None:
    """`value` if it is a page of this site to return to (a local path), else None.

    Only paths: "//host" and backslashes are refused (browsers read both as another
    site), and so are control characters and the sign-in pages themselves.
    """
    if not value or len(value) > 2000 or not value.startswith("/"):
        return None
    if value.startswith("//") or "\\" in value or any(ord(c) < 32 for c in value):
        return None
    path = value.split("?", 1)[0]
    if path in ("/", "/signin", "/signout", "/setup") or path.startswith(("/static/", "/v1/")):
        return None
    return value


def remember_next(response: Response, request: Request, target: str | None) -> None:
    """Keep `target` (if safe) so that signing in again returns to it."""
    target = safe_next(target)
    if target is None:
        return
    response.set_cookie(
        NEXT_COOKIE,
        target,
        max_age=NEXT_SECONDS,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
        path="/",
    )


def take_next(request: Request, response: Response) -> str | None:
    """The page remembered by `remember_next` (and forget it on `response`)."""
    target = safe_next(request.cookies.get(NEXT_COOKIE))
    if NEXT_COOKIE in request.cookies:
        response.delete_cookie(NEXT_COOKIE, path="/", httponly=True, samesite="strict")
    return target
