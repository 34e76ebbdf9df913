"""Exit statuses: one number per way a command can end, so a cron script can tell them apart.

A scrape exits with the status of its worst scope (``db.runs`` names the words); the
same words are ``runs.status``. The table is in the README ("Exit statuses") and in
docs/operations.md.
"""

from __future__ import annotations

from db.runs import (
    BLOCKED,
    DISALLOWED,
    FAILED,
    LAYOUT_CHANGED,
    NOT_RENTAL_PAGE,
    OK,
    PARTIAL,
    UNREACHABLE,
)

EXIT_OK = 0
#: A run that failed for another reason, and bad input to any command (click's own).
EXIT_FAILED = 1
#: A malformed option or argument (click's usage error).
EXIT_USAGE = 2
EXIT_BLOCKED = 3
EXIT_DISALLOWED = 4
EXIT_UNREACHABLE = 5
EXIT_LAYOUT_CHANGED = 6
EXIT_NOT_RENTAL_PAGE = 7
#: ``rentwatch serve`` could not serve: the port is taken, the address is not this machine's.
EXIT_SERVE = 8

#: A run's status -> the exit status of the command that ran it.
EXIT_FOR_STATUS = {
    OK: EXIT_OK,
    # The list was cut by the site's page limit: the data read is stored, a warning says so.
    PARTIAL: EXIT_OK,
    FAILED: EXIT_FAILED,
    BLOCKED: EXIT_BLOCKED,
    DISALLOWED: EXIT_DISALLOWED,
    UNREACHABLE: EXIT_UNREACHABLE,
    LAYOUT_CHANGED: EXIT_LAYOUT_CHANGED,
    NOT_RENTAL_PAGE: EXIT_NOT_RENTAL_PAGE,
}


def exit_for(status: str) -> int:
    return EXIT_FOR_STATUS.get(status, EXIT_FAILED)
