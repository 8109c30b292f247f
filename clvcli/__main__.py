"""`python -m clvcli` runs the command line."""

from clvcli.cli.main import entry

raise SystemExit(entry())
