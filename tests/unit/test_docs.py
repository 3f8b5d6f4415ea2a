"""The README stays true: every setting and every CLI command is documented there."""

from __future__ import annotations

from pathlib import Path

from leadflow.cli import app
from leadflow.settings import Settings

README = (Path(__file__).parents[2] / "README.md").read_text()


def test_every_setting_is_in_the_readme() -> None:
    for name in Settings.model_fields:
        assert f"`LEADFLOW_{name.upper()}`" in README, name


def test_every_setting_has_a_description() -> None:
    for name, field in Settings.model_fields.items():
        assert field.description, name


def test_every_cli_command_is_in_the_readme() -> None:
    commands = [c.name or c.callback.__name__ for c in app.registered_commands]  # type: ignore[union-attr]
    groups = [g.name for g in app.registered_groups]
    assert commands and groups
    for command in commands:
        assert f"leadflow {command}" in README, command
    for group in groups:
        assert f"leadflow {group} " in README, group
