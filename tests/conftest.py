from __future__ import annotations

import pytest

from db import open_db
from tests import realpages


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
