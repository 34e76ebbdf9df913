"""``python -m rentwatch`` runs the ``rentwatch`` command."""

from rentwatch.cli import main

main(prog_name="rentwatch")
