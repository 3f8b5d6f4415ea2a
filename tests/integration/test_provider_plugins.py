"""A third-party package adds a provider through the `leadflow.providers` entry point."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).parents[1] / "fixtures" / "leadflow_echo_provider"


def test_an_installed_package_provides_a_provider(tmp_path: Path) -> None:
    target = tmp_path / "site"
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
         "--no-build-isolation", "--target", str(target), str(PACKAGE)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert install.returncode == 0, install.stderr
    code = (
        "from leadflow.providers import registry\n"
        "from leadflow.settings import Settings\n"
        "assert 'echo' in registry.names(), registry.names()\n"
        "provider = registry.create('echo', Settings(default_region='DE'))\n"
        "print(provider.enrich_batch([{'email': 'a@b.co', 'name': 'A'}]))\n"
    )
    env_path = f"{target}"
    run = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": env_path, "PATH": "/usr/bin:/bin"},
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[{'echoed': 2, 'region': 'DE'}]"
