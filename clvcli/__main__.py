"""`python -m clvcli` runs the command line."""

from clvcli.cli.main import main

raise SystemExit(main())
