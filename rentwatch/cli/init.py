"""``rentwatch init``: a starter config and building registry in a folder."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import click

from rentwatch.cli.group import main

#: What init writes, from the package's own data (so it works from an installed wheel).
STARTER_FILES = ("rentwatch.toml", "buildings.csv")


@main.command("init")
@click.argument("folder", default=".", type=click.Path(file_okay=False))
def init_command(folder: str) -> None:
    """Write a starter rentwatch.toml and buildings.csv (丽晶国际, 九堡) into FOLDER (default: here),
    with an empty inbox/ for saved pages. Refuses to overwrite a file that exists."""
    target = Path(folder)
    existing = [name for name in STARTER_FILES if (target / name).exists()]
    if existing:
        raise click.ClickException(
            f"{', '.join(str(target / n) for n in existing)} exists already; nothing was written"
        )
    target.mkdir(parents=True, exist_ok=True)
    data = files("rentwatch.data")
    for name in STARTER_FILES:
        (target / name).write_bytes(data.joinpath(name).read_bytes())
        click.echo(f"wrote {target / name}")
    (target / "inbox").mkdir(exist_ok=True)
    click.echo(
        f"next: cd {target} && rentwatch buildings import buildings.csv && rentwatch run --check"
    )
