"""`python -m clvcli` runs the command line."""

from clvcli.cli.launch import entry

raise SystemExit(entry())
