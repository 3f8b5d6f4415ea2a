"""`leadflow aws ...`: commands for the AWS backend (boto3 imported only when run)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

aws_app = typer.Typer(help="The AWS backend: create its resources.", no_args_is_help=True)


@aws_app.command("init")
def aws_init(
    secret: Annotated[
        bool,
        typer.Option(
            "--secret/--no-secret",
            help="Also create the signing-key secret in Secrets Manager when missing.",
        ),
    ] = True,
) -> None:
    """Create the tables, queues, bucket and topic the SAM template creates.

    Against AWS_ENDPOINT_URL when set (a moto server for local development), named with
    LEADFLOW_AWS_PREFIX. Safe to run again: what exists is kept.
    """
    from ..cli.common import fail, load_settings
    from .clients import AwsExtraMissing, client
    from .init import init_resources

    settings = load_settings()

    def clients(service: str) -> Any:
        return client(service, settings)

    try:
        done = init_resources(clients, settings.aws_prefix, settings.max_receive_count, secret)
    except AwsExtraMissing as exc:
        raise fail(str(exc)) from None
    except Exception as exc:  # botocore errors: no endpoint, no credentials, refused
        raise fail(f"aws init failed: {exc}") from None
    for item in done:
        verb = "created" if item.created else "exists "
        typer.echo(f"{verb} {item.kind:<6} {item.name}")
