"""Signed, expiring download URLs for blobs (the local twin of S3's pre-signed URLs).

The URL carries the key, an expiry time, optionally the name to save the download under,
and an HMAC-SHA256 of them under the service's secret key: whoever holds the URL may
download that one blob until it expires, and nothing else. Changing any part of it breaks
the signature.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import TYPE_CHECKING
from urllib.parse import quote

if TYPE_CHECKING:
    from .ports import BlobStore

DOWNLOAD_PREFIX = "/v1/blobs/"


class BadSignature(ValueError):
    """The URL was not signed by this service, or it has expired."""


def _signature(secret: str, key: str, expires: int, name: str | None = None) -> str:
    message = f"{key}\n{expires}" + ("" if name is None else f"\n{name}")
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def sign_blob_url(
    secret: str, key: str, ttl_seconds: int, now: float | None = None, name: str | None = None
) -> str:
    """A path (to put after the API's base URL) that downloads `key` for `ttl_seconds`,
    saved as `name` (default: the key's last part)."""
    expires = int((time.time() if now is None else now) + ttl_seconds)
    signature = _signature(secret, key, expires, name)
    named = "" if name is None else f"&name={quote(name, safe='')}"
    return f"{DOWNLOAD_PREFIX}{quote(key)}?expires={expires}{named}&sig={signature}"


def verify_blob_url(
    secret: str,
    key: str,
    expires: int,
    signature: str,
    now: float | None = None,
    name: str | None = None,
) -> None:
    """BadSignature unless the signature is ours and the URL has not expired.

    Expiry is checked first, so a link past its time says "expired" whatever else is
    wrong with it (the caller chose that time: saying so reveals nothing).
    """
    if (time.time() if now is None else now) > expires:
        raise BadSignature("this download link has expired; ask for a new one")
    expected = _signature(secret, key, expires, name)
    # compare_digest refuses non-ASCII text with a TypeError: compare bytes instead, so a
    # signature such as "é" is simply not ours.
    if not hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace")):
        raise BadSignature("this download link is not valid")


def download_link(
    blobs: BlobStore, secret: str, key: str, ttl_seconds: int, name: str | None = None
) -> str:
    """The blob store's own link to `key` (S3: a presigned URL; the local store: a signed
    path of this API), else a signed path of this API's download route, which streams the
    blob through `BlobStore.open`. A path starts with '/': put the API's base URL first."""
    link = blobs.link(key, ttl_seconds, name)
    return link if link is not None else sign_blob_url(secret, key, ttl_seconds, name=name)
