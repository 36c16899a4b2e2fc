"""The CLI contract: every command documented, help works, bad input is one line."""

from __future__ import annotations

from pathlib import Path

from conftest import REPO, run_cli

from newsletter.cli import app


def command_names() -> list[str]:
    """Every command, subcommands as `group name` (`subscribers import`)."""
    names = [
        info.name or (info.callback.__name__ if info.callback else "")
        for info in app.registered_commands
    ]
    for group in app.registered_groups:
        assert group.typer_instance is not None
        names += [f"{group.name} {info.name}" for info in group.typer_instance.registered_commands]
    return names


def test_every_command_is_documented_in_the_readme() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    names = command_names()
    assert {"init", "new", "import", "add", "check", "render", "build"} <= set(names)
    for name in names:
        assert f"`newsletter {name}" in readme, f"README does not document '{name}'"


def test_help_lists_every_command() -> None:
    result = run_cli("--help")
    assert result.returncode == 0
    for name in command_names():
        assert name.split()[0] in result.stdout
    version = run_cli("--version")
    assert version.returncode == 0 and version.stdout.startswith("newsletter 0.")


def test_outside_a_workspace_the_error_says_what_to_do(tmp_path: Path) -> None:
    result = run_cli("check", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1
    assert "no sources.yaml" in result.stderr and "newsletter init" in result.stderr


def test_missing_article_file_is_one_line(tmp_path: Path) -> None:
    run_cli("init", str(tmp_path))
    result = run_cli("-w", str(tmp_path), "add", str(tmp_path / "nope.txt"))
    assert result.returncode == 1
    assert result.stderr == f"error: {tmp_path / 'nope.txt'}: file not found\n"
