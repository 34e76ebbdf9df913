"""``python -m pipeline.cli`` runs the ``rentwatch`` command (for environments without the script)."""

from . import main

main(prog_name="rentwatch")
