"""The README and docs/ stay true of the code: the two commands first, a command table that
matches the CLI flag for flag, the tables a fresh database has, links that resolve.

Each check is a function returning the problems it finds; beside each test on the real
files, a test feeds it a broken text to show that it can fail."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from db.connection import open_db
from db.runs import RUN_STATUSES
from rentwatch.cli import main
from rentwatch.cli.exits import EXIT_FOR_STATUS
from rentwatch.cli.scrape import EXIT_BLOCKED, EXIT_DISALLOWED, EXIT_FAILED
from rentwatch.datasette.tables import HIDDEN_TABLES, TABLES
from tests.realpages import REPO_ROOT

README_PATH = REPO_ROOT / "README.md"
README = README_PATH.read_text(encoding="utf-8")
DOC_PATHS = sorted((REPO_ROOT / "docs").glob("*.md"))
DEMO_COMMAND = "python3 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/rentwatch demo"
TEST_COMMAND = "python3 -m venv .venv && .venv/bin/pip install -e '.[test]' && .venv/bin/pytest"
MAX_README_LINES = 300


# -- reading Markdown -------------------------------------------------------------------


def prose_lines(text: str) -> list[str]:
    """The lines outside fenced code blocks (a fence line itself is dropped)."""
    lines, fenced = [], False
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced:
            lines.append(line)
    return lines


def section(text: str, title: str) -> str:
    """The body of the level-2 section ``## title``, up to the next level-2 heading."""
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert match, f"no section '## {title}'"
    return match.group(1)


def table_first_cells(text: str) -> list[str]:
    """The first cell of each body row (below the |---| line) of the Markdown tables in text."""
    cells, in_body = [], False
    for line in text.splitlines():
        if not line.startswith("|"):
            in_body = False
        elif re.fullmatch(r"\|[-:| ]+\|", line):
            in_body = True
        elif in_body:
            cells.append(line.split("|")[1].strip())
    return cells


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(text: str) -> set[str]:
    found: set[str] = set()
    for line in prose_lines(text):
        if m := re.match(r"#{1,6} (.+)", line):
            base, n = slug(m.group(1)), 0
            while (anchor := base if n == 0 else f"{base}-{n}") in found:
                n += 1
            found.add(anchor)
    return found


LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


def relative_links(text: str) -> list[str]:
    """Link targets that are not URLs, outside code blocks and code spans."""
    prose = re.sub(r"`[^`]*`", "", "\n".join(prose_lines(text)))
    return [t for t in LINK.findall(prose) if not re.match(r"[a-z]+:", t)]


# -- the checks ---------------------------------------------------------------------------


def opening_problems(text: str) -> list[str]:
    want = ["# rentwatch", "```sh", DEMO_COMMAND, TEST_COMMAND, "```"]
    got = ([line for line in text.splitlines() if line.strip()] + [""] * len(want))[: len(want)]
    return [
        f"line {i + 1} of the README is {g!r}, want {w!r}"
        for i, (w, g) in enumerate(zip(want, got, strict=True))
        if g != w
    ]


def contents_problems(text: str) -> list[str]:
    listed = re.findall(r"\]\(#([^)]+)\)", section(text, "Contents"))
    headings = [slug(h) for h in re.findall(r"^## (.+)$", "\n".join(prose_lines(text)), re.M)]
    problems = [f"contents entry #{a} is no heading" for a in listed if a not in headings]
    problems += [
        f"section #{h} is not in the contents"
        for h in headings
        if h != "contents" and h not in listed
    ]
    return problems


def documented_commands(text: str) -> dict[tuple[str, ...], set[str]]:
    """The README's command table: each command's words and the flags its row names."""
    table: dict[tuple[str, ...], set[str]] = {}
    for cell in table_first_cells(section(text, "Commands")):
        words = cell.strip("`").split()
        assert words[0] == "rentwatch", f"command table row {cell!r}"
        path = tuple(words[1:2])
        if path and isinstance(main.commands.get(path[0]), click.Group):
            path = tuple(words[1:3])
        table[path] = set(re.findall(r"--[a-z][a-z-]*", cell))
    return table


def cli_commands(
    group: click.Group = main, prefix: tuple[str, ...] = ()
) -> dict[tuple[str, ...], click.Command]:
    found: dict[tuple[str, ...], click.Command] = {}
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            found.update(cli_commands(command, (*prefix, name)))
        else:
            found[(*prefix, name)] = command
    return found


def flags(command: click.Command) -> set[str]:
    return {o for p in command.params for o in p.opts if o.startswith("--")} - {"--help"}


def command_table_problems(
    table: dict[tuple[str, ...], set[str]], cli: dict[tuple[str, ...], click.Command]
) -> list[str]:
    problems = [
        f"`rentwatch {' '.join(p)}` is in the table but not a command"
        for p in table
        if p not in cli
    ]
    for path, command in cli.items():
        name = f"rentwatch {' '.join(path)}"
        if path not in table:
            problems.append(f"`{name}` is missing from the command table")
            continue
        problems += [
            f"`{name}` has no {f} (the table says so)" for f in sorted(table[path] - flags(command))
        ]
        problems += [
            f"`{name}` {f} is missing from its row" for f in sorted(flags(command) - table[path])
        ]
    return problems


def table_problems(listed: list[str], in_db: set[str], described: set[str]) -> list[str]:
    names = [n.strip("`") for n in listed]
    problems = [f"table {n} is not in a fresh database" for n in names if n not in in_db]
    problems += [f"table {n} has no Datasette description" for n in names if n not in described]
    problems += [
        f"table {n} of a fresh database is not listed"
        for n in sorted(in_db - set(names) - set(HIDDEN_TABLES))
    ]
    return problems


def link_problems(path: Path, text: str) -> list[str]:
    problems = []
    for target in relative_links(text):
        file_part, _, anchor = target.partition("#")
        dest = (path.parent / file_part).resolve()
        if file_part and not dest.exists():
            problems.append(f"{path.name}: link {target} goes nowhere")
            continue
        if anchor and (not file_part or dest.suffix == ".md"):
            heading_text = dest.read_text(encoding="utf-8") if file_part else text
            if anchor not in anchors(heading_text):
                name = dest.name if file_part else path.name
                problems.append(f"{path.name}: link {target} names no heading of {name}")
    return problems


def unlinked_docs(readme: Path, docs: list[Path]) -> list[Path]:
    """docs/*.md that no chain of links from the README reaches."""
    seen, todo = {readme.resolve()}, [readme]
    while todo:
        page = todo.pop()
        for target in relative_links(page.read_text(encoding="utf-8")):
            dest = (page.parent / target.partition("#")[0]).resolve()
            if dest.suffix == ".md" and dest.exists() and dest not in seen:
                seen.add(dest)
                todo.append(dest)
    return [d for d in docs if d.resolve() not in seen]


def scrape_exit_statuses(text: str) -> dict[str, int]:
    """{status: exit} from the table of the "Exit statuses" section (| `status` | exit | … |)."""
    body = section(text, "Exit statuses")
    return {
        m.group(1): int(m.group(2)) for m in re.finditer(r"^\| `(\w+)` \| (\d+) \|", body, re.M)
    }


# -- the README and docs as they are ------------------------------------------------------


def test_readme_starts_with_the_two_commands():
    assert opening_problems(README) == []


def test_readme_is_short_and_its_contents_list_every_section():
    assert len(README.splitlines()) <= MAX_README_LINES
    assert contents_problems(README) == []


def test_the_command_table_matches_the_cli_flag_for_flag():
    assert command_table_problems(documented_commands(README), cli_commands()) == []


@pytest.mark.parametrize("path", sorted(documented_commands(README)), ids=" ".join)
def test_every_command_in_the_table_answers_help(path):
    result = CliRunner().invoke(main, [*path, "--help"], prog_name="rentwatch")
    assert result.exit_code == 0, result.output
    assert "Usage: rentwatch " + " ".join(path) in result.output


@pytest.mark.parametrize("path", sorted(cli_commands()), ids=" ".join)
def test_every_command_has_help_text(path):
    assert (cli_commands()[path].help or "").strip(), f"rentwatch {' '.join(path)} has no help text"


def test_the_tables_listed_are_those_of_a_fresh_database(tmp_path):
    db = open_db(tmp_path / "fresh.db")
    in_db = set(db.table_names())
    db.close()
    listed = table_first_cells(section(README, "The tables"))
    assert listed, "the README lists no tables"
    assert table_problems(listed, in_db, set(TABLES)) == []


def test_scrape_exit_statuses_are_the_codes_the_command_uses():
    # The README's table is the code's table: every status of a run, with its exit status.
    assert scrape_exit_statuses(README) == EXIT_FOR_STATUS
    assert set(EXIT_FOR_STATUS) == set(RUN_STATUSES)
    assert {EXIT_FAILED, EXIT_BLOCKED, EXIT_DISALLOWED} <= set(EXIT_FOR_STATUS.values())


@pytest.mark.parametrize("path", [README_PATH, *DOC_PATHS], ids=lambda p: p.name)
def test_relative_links_resolve(path):
    assert link_problems(path, path.read_text(encoding="utf-8")) == []


def test_every_doc_is_reachable_from_the_readme():
    assert [p.name for p in unlinked_docs(README_PATH, DOC_PATHS)] == []


def test_ci_runs_the_readme_test_command():
    ci = (REPO_ROOT / ".ci" / "run").read_text(encoding="utf-8")
    # .ci/run adds -q to pip only; the command is otherwise the README's.
    assert TEST_COMMAND.replace("pip install -e", "pip install -q -e") in ci
    assert "shared/fixtures/real" in ci


# -- each check can fail ------------------------------------------------------------------


def test_opening_check_catches_a_changed_command():
    broken = README.replace(".venv/bin/rentwatch demo", ".venv/bin/rentwatch demo --no-serve", 1)
    assert opening_problems(broken) and opening_problems("# rentwatch\n\nSome prose first.\n")


def test_contents_check_catches_a_missing_entry_and_a_dead_one():
    broken = README.replace("- [Exit statuses](#exit-statuses)\n", "- [Old](#old-section)\n")
    problems = contents_problems(broken)
    assert "contents entry #old-section is no heading" in problems
    assert "section #exit-statuses is not in the contents" in problems


def test_command_table_check_catches_every_kind_of_drift():
    table = documented_commands(README)
    cli = cli_commands()
    drifted = dict(table)
    del drifted[("sources",)]
    drifted[("scrape",)] = table[("scrape",)] - {"--tracked"} | {"--pages"}
    drifted[("frobnicate",)] = set()
    problems = command_table_problems(drifted, cli)
    assert "`rentwatch sources` is missing from the command table" in problems
    assert "`rentwatch scrape` --tracked is missing from its row" in problems
    assert "`rentwatch scrape` has no --pages (the table says so)" in problems
    assert "`rentwatch frobnicate` is in the table but not a command" in problems


def test_tables_check_catches_unknown_missing_and_undescribed_tables():
    problems = table_problems(
        ["`buildings`", "`flats`"], {"buildings", "runs", "_migrations"}, {"buildings", "runs"}
    )
    assert problems == [
        "table flats is not in a fresh database",
        "table flats has no Datasette description",
        "table runs of a fresh database is not listed",
    ]


def test_link_check_catches_a_missing_file_and_a_missing_heading(tmp_path):
    (tmp_path / "a.md").write_text("# A\n\n## Real heading\n", encoding="utf-8")
    page = tmp_path / "b.md"
    text = (
        "[ok](a.md#real-heading) [gone](nothere.md) [bad](a.md#no-such) [self](#nope)\n"
        "`[code](ignored.md)` [web](https://example.org/x)\n"
    )
    assert link_problems(page, text) == [
        "b.md: link nothere.md goes nowhere",
        "b.md: link a.md#no-such names no heading of a.md",
        "b.md: link #nope names no heading of b.md",
    ]


def test_reachability_check_catches_an_orphan_page(tmp_path):
    (tmp_path / "docs").mkdir()
    readme = tmp_path / "README.md"
    readme.write_text("[one](docs/one.md)\n", encoding="utf-8")
    one, two, three = (tmp_path / "docs" / f"{n}.md" for n in ("one", "two", "three"))
    one.write_text("[two](two.md)\n", encoding="utf-8")
    two.write_text("# Two\n", encoding="utf-8")
    three.write_text("# Three\n", encoding="utf-8")
    assert unlinked_docs(readme, [one, two, three]) == [three]


def test_exit_status_check_reads_the_table():
    broken = README.replace("| `disallowed` | 4 |", "| `disallowed` | 5 |")
    assert scrape_exit_statuses(broken) != EXIT_FOR_STATUS
