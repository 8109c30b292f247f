"""How the `clv` program starts: Ctrl-C watched before the command line imports."""

from __future__ import annotations

import sys


def entry() -> int:
    """The `clv` program: :func:`clvcli.cli.main.main`, imported once SIGINT is
    watched, so that Ctrl-C at any moment ends the run with one line and exit code
    130 (see clvcli.cli.interrupt)."""
    from clvcli.cli import interrupt

    interrupt.watch()
    try:
        from clvcli.cli.main import main

        code = main()
    except KeyboardInterrupt:  # Ctrl-C while the command line itself is imported
        sys.stderr.write("clv: error: interrupted\n")
        code = interrupt.INTERRUPTED
    if code == interrupt.INTERRUPTED:
        interrupt.exit_now()
    return code
