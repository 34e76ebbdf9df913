"""Where the real saved pages live: one setting, ``RENTWATCH_REAL_FIXTURES``.

It defaults to ``../shared/fixtures/real`` beside the repository. The pages are
third-party content and are never copied into the project. ``.ci/run`` fails when
the folder is missing, so these tests cannot skip silently in CI.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
REAL_FIXTURES = Path(
    os.environ.get("RENTWATCH_REAL_FIXTURES", REPO_ROOT.parent / "shared" / "fixtures" / "real")
)


def real_page(relative: str) -> bytes:
    """Bytes of a real saved page, e.g. ``real_page("lianjia/beike_zufang_list_sz_2020-03.html")``."""
    path = REAL_FIXTURES / relative
    if not path.exists():
        raise FileNotFoundError(
            f"real fixture {path} is missing; set RENTWATCH_REAL_FIXTURES to the folder "
            "holding ../shared/fixtures/real"
        )
    return path.read_bytes()
