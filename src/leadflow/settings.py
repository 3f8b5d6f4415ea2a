"""All configuration, read once from LEADFLOW_* environment variables and `.env`."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every setting of leadflow; each field is the environment variable LEADFLOW_<NAME>."""

    model_config = SettingsConfigDict(env_prefix="LEADFLOW_", env_file=".env", extra="ignore")

    data_dir: Path = Field(Path("data"), description="Where the database, blobs and inbox live.")
    host: str = Field("127.0.0.1", description="Address `leadflow serve` listens on.")
    port: int = Field(8000, ge=0, le=65535, description="Port `leadflow serve` listens on.")
    backend: Literal["local", "aws"] = Field("local", description="Adapter set: local or aws.")
    default_region: str = Field("US", description="Region for phone numbers without +country.")
    import_chunk_rows: int = Field(
        10_000, ge=1, le=1_000_000, description="Rows per transaction in in-process imports."
    )
    import_workers: int = Field(
        0,
        ge=0,
        le=64,
        description="Worker processes for large imports; 0 = one per core, 1 = none.",
    )
    batch_size: int = Field(100, ge=1, le=10_000, description="Rows per queued batch of an upload.")
    workers: int = Field(1, ge=0, le=32, description="Worker threads inside `leadflow serve`.")
    visibility_timeout: float = Field(
        30.0,
        gt=0,
        le=43_200,
        description="Seconds a worker holds a message before another may take it over.",
    )
    max_upload_bytes: int = Field(
        1024**3, ge=1024, description="Largest file `POST /v1/uploads` accepts (413 above)."
    )
    max_nesting_depth: int = Field(
        32,
        ge=2,
        le=1000,
        description="Deepest nesting of lists/objects in one record (JSON files, NDJSON, "
        "API bodies); a deeper record is rejected with its reason.",
    )
    max_field_chars: int = Field(
        100_000,
        ge=100,
        description="Characters in one cell or JSON string; a row with a longer one is "
        "rejected with its reason.",
    )
    max_columns: int = Field(
        2_000,
        ge=10,
        description="Cells in one row (keys in one record); a wider row is rejected, a "
        "wider header makes the file unreadable.",
    )
    max_line_bytes: int = Field(
        4 * 1024 * 1024,
        ge=1024,
        description="Characters in one line of CSV or NDJSON; a longer line is skipped "
        "without being held in memory and rejected with its reason.",
    )
    xlsx_calamine_max_bytes: int = Field(
        100 * 1024 * 1024,
        ge=0,
        description="XLSX workbooks whose sheets are at most this many bytes uncompressed "
        "are read by python-calamine (fast, holds the sheet in memory); larger ones "
        "stream through openpyxl in bounded memory.",
    )
    provider_concurrency: int = Field(
        16, ge=1, le=256, description="Calls in flight to one enrichment provider."
    )
    provider_timeout: float = Field(
        30.0, gt=0, le=600, description="Seconds before a provider call times out."
    )
    http_provider_url: str | None = Field(
        None, description="Where the generic `http` provider POSTs batches of contacts."
    )
    http_provider_key: str = Field(
        "email", description="Contact field the `http` provider's answers are keyed by."
    )
    llm_base_url: str = Field(
        "https://api.deepseek.com",
        description="OpenAI-compatible chat-completions base URL of the `llm` provider.",
    )
    llm_api_key: str | None = Field(None, description="API key of the `llm` provider.")
    llm_model: str = Field("deepseek-chat", description="Model the `llm` provider asks.")
    slack_webhook_url: str | None = Field(
        None, description="Slack incoming webhook for new-lead messages (tried first)."
    )
    slack_alert_webhook_url: str | None = Field(
        None, description="Slack incoming webhook for the DLQ alarm."
    )
    smtp_host: str | None = Field(None, description="SMTP server for e-mail notifications.")
    smtp_port: int = Field(25, ge=1, le=65535, description="Its port.")
    email_from: str | None = Field(None, description="Sender of notification e-mails.")
    email_to: str | None = Field(None, description="Recipient of notification e-mails.")
    slack_messages_per_second: float = Field(
        1.0,
        gt=0,
        le=1000,
        description="Pace of new-lead messages per Slack webhook (Slack takes about 1 a second).",
    )
    notify_attempts: int = Field(
        6, ge=1, le=100, description="Tries of a notification before it goes to the DLQ."
    )
    notify_retry_seconds: float = Field(
        15.0,
        gt=0,
        le=3600,
        description="Wait before a notification's next try when every channel failed "
        "(doubling each time, at most 10 minutes); also how long Slack rests after failing.",
    )
    dlq_alarm_threshold: int = Field(
        2, ge=0, description="Alert once when the DLQ holds more than this many messages."
    )
    provider_outage_budget: float = Field(
        300.0,
        ge=0,
        le=86_400,
        description="Seconds a provider may stay down (circuit open) before the messages "
        "waiting for it go to the DLQ and their jobs end.",
    )
    max_receive_count: int = Field(
        3, ge=1, le=100, description="Receives of a queued message before it goes to the DLQ."
    )
    max_body_bytes: int = Field(
        10 * 1024 * 1024, ge=1024, description="Largest JSON body the API accepts."
    )
    token_ttl_seconds: int = Field(3600, ge=60, description="Lifetime of an access token.")
    rate_limit: int = Field(600, ge=0, description="Requests per minute per user; 0 = off.")
    login_attempts: int = Field(
        10, ge=1, description="Failed logins per username and address per minute."
    )
    log_level: str = Field("INFO", description="Logging level.")
    access_log: bool = Field(True, description="Log one JSON line per HTTP request.")
    secret_key: str | None = Field(
        None, description="Signing key; generated into the data directory when unset."
    )
    restart_backoff: float = Field(
        1.0,
        gt=0,
        le=600,
        description="Seconds a failed loop (worker, inbox, notifier, sweeper) waits before "
        "its first restart; doubled at each failure in a row.",
    )
    restart_backoff_max: float = Field(
        30.0, gt=0, le=3600, description="Longest wait between restarts of a failing loop."
    )
    inbox_stale_seconds: float = Field(
        900.0,
        gt=0,
        description="Files in inbox/*/processing/ of a live process that showed no sign of "
        "life for this long go back to the inbox (a dead process's files go back at once).",
    )
    inbox_recover_seconds: float = Field(
        10.0,
        gt=0,
        le=3600,
        description="Seconds between looks for files abandoned in inbox/*/processing/.",
    )
    inbox_owner: str = Field(
        "admin", description="User owning inbox files and CLI imports run without --owner."
    )

    @field_validator("default_region")
    @classmethod
    def _known_region(cls, value: str) -> str:
        """A region phonenumbers knows, upper-cased (`de` is `DE`)."""
        import phonenumbers

        region = value.strip().upper()
        if region not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(
                f"{value!r} is not a phone region; use a two-letter code such as US, DE or GB"
            )
        return region

    public_url: str | None = Field(
        None,
        description="Base URL of the API as clients reach it (e.g. https://crm.example.com); "
        "signed download links are built from it. Unset: the address the server listens on "
        "(never the request's Host header).",
    )
    trusted_proxies: str = Field(
        "",
        description="Comma-separated addresses or networks of reverse proxies whose "
        "X-Forwarded-For is believed (login limits); empty = none.",
    )
    max_header_bytes: int = Field(
        16 * 1024, ge=1024, le=1024 * 1024, description="Largest request headers (431 above)."
    )

    # ----------------------------------------------------------------- AWS (issue 11)
    aws_prefix: str = Field(
        "leadflow",
        pattern=r"^[a-z][a-z0-9-]{1,30}$",
        description="Start of every AWS resource name (tables, queues, bucket, topic); the "
        "SAM template's Prefix parameter.",
    )
    aws_region: str | None = Field(
        None, description="AWS region; unset: boto3's own (AWS_REGION, AWS_DEFAULT_REGION)."
    )
    secret_key_parameter: str | None = Field(
        None,
        description="On AWS: the SSM Parameter Store parameter (SecureString) holding the "
        "signing key.",
    )
    secret_key_secret_id: str | None = Field(
        None,
        description="On AWS: the Secrets Manager secret (name or ARN) holding the signing "
        "key; the template sets it. With LEADFLOW_BACKEND=aws one of the two (or "
        "LEADFLOW_SECRET_KEY) is required.",
    )
    cognito_region: str | None = Field(
        None, description="Region of the Cognito user pool whose tokens the API accepts."
    )
    cognito_user_pool_id: str | None = Field(
        None,
        description="Cognito user pool id; with LEADFLOW_COGNITO_REGION it names the token "
        "issuer and its JWKS.",
    )
    cognito_client_id: str | None = Field(
        None,
        description="The pool's app client id: ID tokens must have it as audience, access "
        "tokens as client_id.",
    )
    cognito_issuer: str | None = Field(
        None,
        description="Issuer URL of the tokens (instead of region + pool id); its JWKS is "
        "<issuer>/.well-known/jwks.json.",
    )
    cognito_audience: str | None = Field(
        None, description="Audience the tokens must carry (instead of the client id)."
    )

    @property
    def cognito_issuer_url(self) -> str | None:
        """The issuer Cognito tokens must name; None when Cognito sign-in is off."""
        if self.cognito_issuer:
            return self.cognito_issuer.rstrip("/")
        if self.cognito_region and self.cognito_user_pool_id:
            return f"https://cognito-idp.{self.cognito_region}.amazonaws.com/{self.cognito_user_pool_id}"
        return None

    @field_validator("public_url")
    @classmethod
    def _check_public_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip().rstrip("/")
        if not value.startswith(("http://", "https://")) or "?" in value or "#" in value:
            raise ValueError("must be an http:// or https:// URL without query or fragment")
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _check_trusted_proxies(cls, value: str) -> str:
        for part in filter(None, (p.strip() for p in value.split(","))):
            try:
                ipaddress.ip_network(part, strict=False)
            except ValueError:
                raise ValueError(f"{part!r} is not an IP address or network") from None
        return value

    @property
    def trusted_proxy_networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        """LEADFLOW_TRUSTED_PROXIES as networks (a bare address is a /32 or /128)."""
        parts = filter(None, (p.strip() for p in self.trusted_proxies.split(",")))
        return tuple(ipaddress.ip_network(part, strict=False) for part in parts)

    @property
    def db_path(self) -> Path:
        return self.data_dir / "leadflow.db"
