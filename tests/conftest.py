from __future__ import annotations

import signal

import pytest

from db import open_db
from tests import realpages

# A run started in the background by a shell without job control inherits SIGINT ignored,
# and so would every command the tests start: the tests that stop one with Ctrl-C would
# wait for it in vain. Python's own handler here is reset to the default in each child.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "rentwatch.db"


@pytest.fixture
def fresh_db(db_path):
    db = open_db(db_path)
    yield db
    db.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    # A skip raised in a fixture is reported at each test's own line; the real pages'
    # absence is one reason, so its skips are reported at one place, as one summary line.
    report = yield
    longrepr = report.longrepr
    if report.skipped and isinstance(longrepr, tuple) and longrepr[2].endswith(realpages.MISSING):
        report.longrepr = (
            realpages.__file__,
            realpages.real_path.__code__.co_firstlineno,
            longrepr[2],
        )
    return report
