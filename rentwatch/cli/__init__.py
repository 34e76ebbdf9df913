"""The ``rentwatch`` command. The group is thin: each command lives in its own module
and calls the same functions the scheduler calls. Known errors become one clear line
and a non-zero exit, never a traceback."""

# Each module adds its commands to ``main`` when imported.
from rentwatch.cli import buildings as _buildings  # noqa: F401
from rentwatch.cli import demo as _demo  # noqa: F401
from rentwatch.cli import init as _init  # noqa: F401
from rentwatch.cli import observe as _observe  # noqa: F401
from rentwatch.cli import run as _run  # noqa: F401
from rentwatch.cli import scrape as _scrape  # noqa: F401
from rentwatch.cli import serve as _serve  # noqa: F401
from rentwatch.cli import snapshot as _snapshot  # noqa: F401
from rentwatch.cli import units as _units  # noqa: F401
from rentwatch.cli.group import main

__all__ = ["main"]
