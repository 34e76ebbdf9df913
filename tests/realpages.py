"""Where the real saved pages live: one setting, ``RENTWATCH_REAL_FIXTURES``.

It defaults to ``../shared/fixtures/real`` beside the repository. The pages are
third-party content and are never copied into the project, so a fresh clone has none:
every test that reads one then skips, all for the one reason ``MISSING``. With
``RENTWATCH_REQUIRE_REAL=1`` (set by ``.ci/run``) a missing folder fails those tests
instead, so CI never skips them.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
REAL_FIXTURES = Path(
    os.environ.get("RENTWATCH_REAL_FIXTURES", REPO_ROOT.parent / "shared" / "fixtures" / "real")
)
#: Set to 1 to make a missing real-pages folder a test failure rather than a skip.
REQUIRE_ENV = "RENTWATCH_REQUIRE_REAL"
MISSING = (
    f"the real saved pages are not here ({REAL_FIXTURES}): set RENTWATCH_REAL_FIXTURES "
    "to the folder holding ../shared/fixtures/real to run these tests"
)


def real_path(relative: str) -> Path:
    """Path of a real saved page, e.g. ``real_path("lianjia/beike_zufang_list_sz_2020-03.html")``;
    skips the calling test when the folder is absent (fails under RENTWATCH_REQUIRE_REAL=1)."""
    import pytest  # here, not above: bench/ reads REAL_FIXTURES without pytest

    if not REAL_FIXTURES.is_dir():
        if os.environ.get(REQUIRE_ENV):
            pytest.fail(f"{MISSING} ({REQUIRE_ENV} is set)", pytrace=False)
        pytest.skip(MISSING)
    path = REAL_FIXTURES / relative
    if not path.exists():
        # The folder is there but not this page: a wrong name or an incomplete copy.
        raise FileNotFoundError(f"real fixture {path} is missing from {REAL_FIXTURES}")
    return path


def real_dir(relative: str = "") -> Path:
    """A folder of real saved pages (the whole set by default), skipping the calling test
    when the pages are absent, as real_path does."""
    import pytest

    if not REAL_FIXTURES.is_dir():
        if os.environ.get(REQUIRE_ENV):
            pytest.fail(f"{MISSING} ({REQUIRE_ENV} is set)", pytrace=False)
        pytest.skip(MISSING)
    return REAL_FIXTURES / relative


def real_page(relative: str) -> bytes:
    """Bytes of a real saved page (see real_path)."""
    return real_path(relative).read_bytes()
