"""The installed entry point as a real process: pipes, exit codes, signals."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from tests.conftest import SAMPLE

CLV = [sys.executable, "-m", "clvcli"]


def run(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([*CLV, *args], input=stdin, capture_output=True, timeout=120)


def test_module_entry_point_prints_the_version():
    result = run("--version")
    assert result.returncode == 0
    assert result.stdout.decode().startswith("clv ")


def test_a_pipe_gets_csv_and_stderr_stays_clean_with_quiet():
    result = run("compute", str(SAMPLE / "shop.csv"), "--quiet")
    assert result.returncode == 0
    assert result.stdout.startswith(b"customer_id,")
    assert result.stderr == b""


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_a_closed_downstream_pipe_exits_quietly(fmt):
    # Parquet's writer meets the closed pipe inside the command (its output is past
    # the pipe's buffer), where the framework would make the error exit 1.
    reader = subprocess.Popen(
        [*CLV, "compute", str(SAMPLE / "shop.csv"), "-q", "--format", fmt],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert reader.stdout is not None
    reader.stdout.read(4)
    reader.stdout.close()
    _, stderr = reader.communicate(timeout=120)
    assert reader.returncode == 0
    assert stderr == b""


def test_compute_chains_into_segment_through_a_pipe():
    compute = run("compute", str(SAMPLE / "shop_fa.csv"), "-q")
    segment = run("segment", "--stage", "loyal", "-q", stdin=compute.stdout)
    assert segment.returncode == 0
    lines = segment.stdout.decode().splitlines()
    assert len(lines) > 100
    assert all(
        line.endswith(("loyal", "loyal,اینستاگرام")) or ",loyal," in line for line in lines[1:]
    )


def test_errors_are_one_line_without_traceback():
    result = run("compute", "does-not-exist.csv")
    assert result.returncode == 3
    assert result.stderr.decode() == "clv: error: does-not-exist.csv: no such file\n"


def _wait_until_reading_stdin(process: subprocess.Popen, seconds: float = 60.0) -> None:
    """Until the process sleeps in a read of its stdin pipe (Linux tells through
    /proc), so that a loaded machine's slow start cannot make the test send its
    signal before there is anything to interrupt; elsewhere, a pause."""
    wchan = f"/proc/{process.pid}/wchan"
    if not os.path.exists(wchan):
        time.sleep(1.5)
        return
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and process.poll() is None:
        with open(wchan) as state:
            if "pipe" in state.read():
                return
        time.sleep(0.02)


def test_sigint_exits_130_with_one_line():
    process = subprocess.Popen(
        [*CLV, "segment", "--summary"],  # waits on stdin
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    _wait_until_reading_stdin(process)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130
    assert stderr.decode().strip().splitlines() == ["clv: error: interrupted"]


def test_no_color_and_no_terminal_means_plain_messages():
    env = {**os.environ, "NO_COLOR": "1"}
    result = subprocess.run([*CLV, "compute", "nope.csv"], capture_output=True, env=env, timeout=60)
    assert b"\033[" not in result.stderr


def _entry_with(main_body: str, folder) -> subprocess.CompletedProcess[str]:
    """Run the program's entry point as ``python -m`` runs it, with ``main`` replaced
    by ``main_body``."""
    script = textwrap.dedent(
        """
        import clvcli.cli.main as cli
        from clvcli.cli.launch import entry

        def main():
        {body}

        cli.main = main
        raise SystemExit(entry())
        """
    ).format(body=textwrap.indent(textwrap.dedent(main_body), "    "))
    (folder / "entry_under_test.py").write_text(script)
    return subprocess.run(
        [sys.executable, "-m", "entry_under_test"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=folder,
    )


def test_ctrl_c_before_the_command_runs_is_one_line_and_130(tmp_path):
    # While the command line imports, before main's own error handling is in place.
    result = _entry_with("raise KeyboardInterrupt", tmp_path)
    assert result.returncode == 130
    assert result.stderr == "clv: error: interrupted\n"


def test_ctrl_c_that_python_loses_still_ends_the_run_as_interrupted():
    # Python prints "Exception ignored" and goes on when KeyboardInterrupt comes
    # inside one of its own callbacks; the handler remembers the signal.
    script = textwrap.dedent(
        f"""
        import os, signal, sys
        from clvcli.cli import interrupt
        from clvcli.cli.main import main
        interrupt.watch()
        try:
            os.kill(os.getpid(), signal.SIGINT)
        except KeyboardInterrupt:
            pass  # lost, as in an import lock's clean-up
        sys.exit(main(["compute", {str(SAMPLE / "shop.csv")!r}, "-q"]))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 130
    assert result.stderr == "clv: error: interrupted\n"


def test_ctrl_c_lost_in_a_callback_prints_no_traceback():
    # A KeyboardInterrupt raised inside a callback Python runs for itself (a weakref's,
    # as the import system's lock clean-up is) is reported as "Exception ignored", with
    # a traceback: on a slow machine, a Ctrl-C while clv imported printed one.
    script = textwrap.dedent(
        f"""
        import os, signal, sys, weakref
        from clvcli.cli import interrupt
        from clvcli.cli.main import main
        interrupt.watch()

        class Lock:
            pass

        lock = Lock()
        ref = weakref.ref(lock, lambda _: os.kill(os.getpid(), signal.SIGINT))
        del lock  # the callback runs, and the interrupt is lost in it
        sys.exit(main(["compute", {str(SAMPLE / "shop.csv")!r}, "-q"]))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 130
    assert result.stderr == "clv: error: interrupted\n"


def test_an_interrupt_that_escaped_generated_code_still_exits_130(tmp_path):
    # CPython kills itself with SIGINT at exit when KeyboardInterrupt escaped code it
    # compiled from a string, even if caught later; an interrupted run returns 130.
    result = _entry_with(
        """
        try:
            exec("raise KeyboardInterrupt")
        except KeyboardInterrupt:
            pass
        return 130
        """,
        tmp_path,
    )
    assert result.returncode == 130
    quiet = _entry_with("return 0", tmp_path)  # the same end without a lost interrupt
    assert quiet.returncode == 0
