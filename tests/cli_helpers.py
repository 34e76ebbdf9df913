"""Running the real ``rentwatch`` CLI from tests."""

from __future__ import annotations

from click.testing import CliRunner, Result

from pipeline.cli import main


def run_cli(*args: str, db_path=None) -> Result:
    argv = [str(a) for a in args]
    if db_path is not None:
        argv += ["--db", str(db_path)]
    return CliRunner().invoke(main, argv, catch_exceptions=False)
