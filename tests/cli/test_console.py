"""stderr behaviour: progress only on a terminal, colour only when allowed."""

from __future__ import annotations

import io
import sys

from clvcli.cli.console import Reporter, error


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_shows_on_a_terminal_stderr(monkeypatch):
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    with Reporter().progress("reading transactions"):
        pass
    assert "reading transactions" in terminal.getvalue()


def test_progress_is_silent_when_stderr_is_not_a_terminal(monkeypatch):
    pipe = io.StringIO()
    monkeypatch.setattr(sys, "stderr", pipe)
    with Reporter().progress("reading transactions"):
        pass
    assert pipe.getvalue() == ""


def test_quiet_silences_progress_and_warnings_on_a_terminal(monkeypatch):
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    reporter = Reporter(quiet=True)
    with reporter.progress("reading"):
        reporter.warn(["something"])
    assert terminal.getvalue() == ""


def test_errors_are_coloured_on_a_terminal_unless_no_color(monkeypatch):
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    monkeypatch.delenv("NO_COLOR", raising=False)
    error("boom", "try this")
    assert "\033[" in terminal.getvalue()
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    monkeypatch.setenv("NO_COLOR", "1")
    error("boom\nsecond line", "try this")
    assert terminal.getvalue() == "clv: error: boom second line\nhint: try this\n"


NOISY_RUN = """
import sys, warnings
import clvcli.core.compute as compute
from clvcli.cli.main import main

real = compute.customer_table

def noisy(*args, **kwargs):
    warnings.warn("overflow encountered in exp", RuntimeWarning, stacklevel=1)
    warnings.warn("a future pandas will change this", FutureWarning, stacklevel=1)
    return real(*args, **kwargs)

compute.customer_table = noisy
sys.exit(main(sys.argv[1:]))
"""


def test_library_warnings_never_reach_stderr(tmp_path):
    """numpy or pandas warnings are not clv's messages: stderr stays empty on success."""
    import subprocess

    from tests.conftest import SAMPLE

    out = tmp_path / "out.csv"
    args = ["compute", str(SAMPLE / "shop.csv"), "--model", "none", "-q", "-o", str(out)]
    done = subprocess.run(
        [sys.executable, "-W", "default", "-c", NOISY_RUN, *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert out.read_text().startswith("customer_id,")
