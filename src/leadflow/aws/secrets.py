"""The signing key on AWS: read from SSM Parameter Store or Secrets Manager, never made up.

Locally leadflow generates a key into its data directory on first start. On Lambda that
directory is per container: each container would sign tokens with its own key, and a
token issued by one would fail on the next. So with LEADFLOW_BACKEND=aws the key must be
configured (LEADFLOW_SECRET_KEY, LEADFLOW_SECRET_KEY_PARAMETER or
LEADFLOW_SECRET_KEY_SECRET_ID), and a missing or unreadable one stops the start-up.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..settings import Settings

MIN_KEY_CHARS = 32  # a shorter key is guessable; the template generates 64


class MissingSecret(RuntimeError):
    """The AWS backend has no usable signing key; the message says what to set."""


ClientFactory = Callable[[str], Any]  # service name -> boto3 client


def aws_secret_key(settings: Settings, clients: ClientFactory | None = None) -> str:
    """The signing key for LEADFLOW_BACKEND=aws.

    Order: LEADFLOW_SECRET_KEY, then the SSM parameter (decrypted), then the Secrets
    Manager secret (its SecretString). MissingSecret when none is set, when the named
    parameter or secret does not exist or cannot be read, or when it is shorter than
    MIN_KEY_CHARS characters.
    """
    if clients is None:
        from .clients import client

        def clients(service: str) -> Any:
            return client(service, settings)

    if settings.secret_key:
        return _checked(settings.secret_key, "LEADFLOW_SECRET_KEY")
    if settings.secret_key_parameter:
        name = settings.secret_key_parameter
        where = f"the SSM parameter {name!r} (LEADFLOW_SECRET_KEY_PARAMETER)"
        try:
            answer = clients("ssm").get_parameter(Name=name, WithDecryption=True)
        except Exception as exc:  # botocore's ClientError, or no credentials
            raise MissingSecret(f"cannot read {where}: {_reason(exc)}") from None
        return _checked(str(answer["Parameter"]["Value"]), where)
    if settings.secret_key_secret_id:
        name = settings.secret_key_secret_id
        where = f"the Secrets Manager secret {name!r} (LEADFLOW_SECRET_KEY_SECRET_ID)"
        try:
            answer = clients("secretsmanager").get_secret_value(SecretId=name)
        except Exception as exc:
            raise MissingSecret(f"cannot read {where}: {_reason(exc)}") from None
        if "SecretString" not in answer:
            raise MissingSecret(f"{where} holds binary data; store the key as a string")
        return _checked(str(answer["SecretString"]), where)
    raise MissingSecret(
        "LEADFLOW_BACKEND=aws needs a signing key shared by every container: set "
        "LEADFLOW_SECRET_KEY_SECRET_ID (Secrets Manager) or LEADFLOW_SECRET_KEY_PARAMETER "
        "(SSM Parameter Store); a key generated per container would reject the tokens of "
        "the others"
    )


def _checked(value: str, where: str) -> str:
    key = value.strip()
    if len(key) < MIN_KEY_CHARS:
        raise MissingSecret(
            f"the signing key from {where} has {len(key)} characters; it needs at least "
            f"{MIN_KEY_CHARS}"
        )
    return key


def _reason(exc: Exception) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        error = response.get("Error", {})
        code, message = error.get("Code"), error.get("Message")
        if code:
            return f"{code}: {message}" if message else str(code)
    return " ".join(str(exc).split()) or type(exc).__name__
