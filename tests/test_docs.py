"""Every command has help text and is documented in the README (sqlite-utils' test_docs)."""

from __future__ import annotations

import click
import pytest

from rentwatch.cli import main
from tests.realpages import REPO_ROOT

README = (REPO_ROOT / "README.md").read_text(encoding="utf-8")


def command_paths(
    group: click.Group, prefix: tuple[str, ...] = ()
) -> list[tuple[tuple[str, ...], click.Command]]:
    found = []
    for name, command in sorted(group.commands.items()):
        path = (*prefix, name)
        found.append((path, command))
        if isinstance(command, click.Group):
            found.extend(command_paths(command, path))
    return found


COMMANDS = command_paths(main)


@pytest.mark.parametrize("path,command", COMMANDS, ids=[" ".join(p) for p, _ in COMMANDS])
def test_command_has_help_and_a_readme_mention(path, command):
    assert (command.help or "").strip(), f"rentwatch {' '.join(path)} has no help text"
    assert f"rentwatch {' '.join(path)}" in README, (
        f"README does not mention `rentwatch {' '.join(path)}`"
    )


def test_readme_starts_with_the_two_commands():
    lines = [line for line in README.splitlines() if line.strip()]
    assert lines[1] == "```sh"
    assert lines[2].endswith(".venv/bin/rentwatch demo")
    assert lines[3].endswith(".venv/bin/pytest")


def test_ci_runs_the_readme_test_command():
    ci = (REPO_ROOT / ".ci" / "run").read_text(encoding="utf-8")
    test_command = [line for line in README.splitlines() if line.endswith(".venv/bin/pytest")][0]
    # .ci/run adds -q to pip only; the command is otherwise the README's.
    assert test_command.replace("pip install -e", "pip install -q -e") in ci
    assert "shared/fixtures/real" in ci
