"""A local install never needs the aws extra: nothing local imports boto3 and friends."""

from __future__ import annotations

import subprocess
import sys

AWS_ONLY = ("boto3", "botocore", "mangum", "aws_lambda_powertools", "moto")


def test_the_local_service_and_cli_import_no_aws_package() -> None:
    code = (
        "import sys\n"
        "import leadflow.cli, leadflow.api.app, leadflow.jobs.worker, leadflow.jobs.inbox\n"
        "import leadflow.aws.cli, leadflow.aws.resources\n"
        f"print(sorted(m for m in {AWS_ONLY!r} if m in sys.modules))\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "[]"


def test_aws_help_works_without_touching_aws() -> None:
    from pathlib import Path

    leadflow = Path(sys.executable).parent / "leadflow"
    run = subprocess.run([str(leadflow), "aws", "--help"], capture_output=True, text=True)
    assert run.returncode == 0
    assert "init" in run.stdout
