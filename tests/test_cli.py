"""The console script imports a command's module only when that command runs; its listing says what each
command's own help says."""

import subprocess
import sys
from pathlib import Path

import pytest
from typer.core import _click as click
from typer.testing import CliRunner

from sdg16.cli import COMMANDS, SHORT_HELP, app, load_command

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", list(COMMANDS))
def test_the_listing_says_what_each_command_says(name):
    command = load_command(name)
    assert isinstance(command, click.Command)
    assert " ".join(SHORT_HELP[name].split()) == " ".join((command.help or "").split("\n\n")[0].split())


def test_help_lists_every_command_without_importing_them():
    code = (
        "import sys; from typer.testing import CliRunner; from sdg16.cli import app; "
        "result = CliRunner().invoke(app, ['--help']); assert result.exit_code == 0, result.output; "
        "heavy = [m for m in ('pandas', 'scipy', 'sqlalchemy', 'pyxform', 'analysis.pipeline') if m in sys.modules]; "
        "print(result.output); assert not heavy, heavy"
    )
    done = _fresh_python(code, COLUMNS="200")
    for name in COMMANDS:
        assert name in done.stdout


HEAVY = ("pandas", "sqlalchemy", "pyxform", "scipy", "numpy", "streamlit", "pyarrow")


@pytest.mark.parametrize("module", sorted({module for module, _, _ in COMMANDS.values()}))
def test_a_command_module_imports_no_heavy_package(module):
    """`sdg16 <command> --help` imports the command's module: its heavy imports wait until the command runs."""
    code = f"import sys, {module}; print(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    assert _fresh_python(code).stdout.strip() == "[]"


def _fresh_python(code: str, **environment: str) -> subprocess.CompletedProcess:
    """`code` run in a new interpreter on this checkout (nothing imported before it); fails the test if it fails."""
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", **environment},
    )
    assert done.returncode == 0, done.stderr
    return done


def test_a_command_runs_through_the_lazy_group():
    result = CliRunner().invoke(app, ["margins", "--help"])
    assert result.exit_code == 0 and "default" in result.output
    assert CliRunner().invoke(app, ["nonsense"]).exit_code != 0
