"""The `clv` application and its entry point, where every error becomes an exit code.

Errors are translated in this one place: ClvError subclasses carry their exit code;
usage errors from option parsing exit 2; Ctrl-C exits 130; a closed downstream pipe
ends the run quietly with 0. Each prints one ``clv: error:`` line, never a traceback
(set CLV_DEBUG=1 to see one for an internal error).
"""

from __future__ import annotations

import errno
import os
import sys
import traceback
import warnings
from typing import Annotated

import typer

from clvcli import __version__
from clvcli.cli import interrupt
from clvcli.cli.cac import cac_cmd
from clvcli.cli.cohorts import cohorts_cmd
from clvcli.cli.compute import compute_cmd
from clvcli.cli.console import error, set_log_format
from clvcli.cli.fit import fit_cmd
from clvcli.cli.formula import formula_app
from clvcli.cli.report import report_cmd
from clvcli.cli.retention import retention_cmd
from clvcli.cli.segment import segment_cmd
from clvcli.cli.stages import stages_cmd
from clvcli.cli.summary import summary_cmd
from clvcli.cli.validate import validate_cmd
from clvcli.errors import ClvError, ReaderLeft

HELP = """Customer lifetime value from a transaction log.

Reads CSV or Parquet exports (English or Persian headers, Jalali dates, Persian \
digits), summarises every customer, and tells what each is worth and where they \
stand in their lifecycle. Data goes to stdout (a table on a terminal, CSV in a \
pipe); messages go to stderr.

Example: clv compute sales.csv --margin 0.3
"""

app = typer.Typer(
    name="clv",
    help=HELP,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)


def _version(value: bool) -> None:
    if value:
        print(f"clv {__version__}")
        raise typer.Exit(0)


@app.callback()
def root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", help="Print the version and exit.", callback=_version, is_eager=True
        ),
    ] = False,
) -> None:
    """Customer lifetime value from a transaction log."""


app.command("compute")(compute_cmd)
app.command("segment")(segment_cmd)
app.command("summary")(summary_cmd)
app.command("stages")(stages_cmd)
app.command("cohorts")(cohorts_cmd)
app.command("cac")(cac_cmd)
app.command("fit")(fit_cmd)
app.command("validate")(validate_cmd)
app.command("report")(report_cmd)
app.command("retention")(retention_cmd)
app.add_typer(formula_app, name="formula")


def main(argv: list[str] | None = None) -> int:
    """Run clv with ``argv`` (default: sys.argv) and return the exit code."""
    interrupt.watch()
    _standard_streams()
    code = _settle_stdout(_run(sys.argv[1:] if argv is None else list(argv)))
    if interrupt.seen() and code != interrupt.INTERRUPTED:
        # Ctrl-C came where Python lost the exception (see clvcli.cli.interrupt): the
        # run is reported as interrupted, whatever it did after.
        error("interrupted", exit_code=interrupt.INTERRUPTED)
        return interrupt.INTERRUPTED
    return code


def _run(args: list[str]) -> int:
    if not args:
        args = ["--help"]
    set_log_format("text")
    # stderr carries clv's own messages only: a library's warning (numpy about an
    # overflow clv already handles, pandas about its next release) would read as a
    # problem with the user's data, and would break a log of JSON lines.
    warnings.simplefilter("ignore")
    try:
        command = typer.main.get_command(app)
        result = command.main(args=args, prog_name="clv", standalone_mode=False)
        code = result if isinstance(result, int) else 0
        if code == 130:  # Typer turns Ctrl-C into Exit(130) before we see it
            error("interrupted", exit_code=130)
            return code
        _flush_stdout()
        return code
    except ClvError as exc:
        error(exc.message, exc.hint, exc.exit_code)
        return exc.exit_code
    except typer.Exit as exc:
        code = getattr(exc, "exit_code", 0)
        if code == 130:
            error("interrupted", exit_code=130)
        return code
    except (KeyboardInterrupt, typer.Abort):
        error("interrupted", exit_code=130)
        return 130
    except (BrokenPipeError, ReaderLeft):
        _silence_stdout()
        return 0
    except typer.TyperException as exc:
        return _usage_error(exc)
    except SystemExit as exc:
        if _reader_left(exc):
            return 0
        raise exc from None
    except StdoutClosed:
        error("cannot write to stdout: it is closed", "give -o FILE, or leave stdout open", 5)
        return 5
    except OSError as exc:
        if exc.errno in _FULL:  # stdout (help, a table) on a full disk or /dev/full
            _silence_stdout()
            error(f"cannot write the output: {exc.strerror or exc}", exit_code=5)
            return 5
        return _internal_error(exc)
    except Exception as exc:  # a bug: one line, the traceback only on request
        return _internal_error(exc)


class StdoutClosed(OSError):
    """Data written to a stdout the run was started without (``>&-``)."""


class _ClosedStdout:
    """sys.stdout when fd 1 was closed: not a terminal, nothing to flush, and data
    written to it an error (exit 5) rather than lost in silence."""

    buffer = property(lambda self: self)

    def write(self, data: object) -> int:
        raise StdoutClosed(errno.EBADF, "it is closed")

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        return 1


def _standard_streams() -> None:
    """A closed stdin, stdout or stderr gets /dev/null on its descriptor, so that no
    file the run opens takes descriptor 0, 1 or 2 (where a library's stray write
    would land in the user's output); Python's own stdin and stderr stay None (read
    as closed, said nowhere), and stdout refuses data (see :class:`_ClosedStdout`)."""
    for descriptor in (0, 1, 2):
        try:
            os.fstat(descriptor)
        except OSError:
            null = os.open(os.devnull, os.O_RDWR)
            if null != descriptor:
                os.dup2(null, descriptor)
                os.close(null)
    if sys.stdout is None:
        sys.stdout = _ClosedStdout()  # type: ignore[assignment]


# What a write that cannot go on says: no space, quota, file too large, I/O error.
_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO)


def _internal_error(exc: Exception) -> int:
    if os.environ.get("CLV_DEBUG"):
        traceback.print_exception(exc)
    error(
        f"internal error: {type(exc).__name__}: {exc}",
        "this is a bug in clv; please report it with the command you ran "
        "(CLV_DEBUG=1 prints the traceback)",
        exit_code=1,
    )
    return 1


def _reader_left(exc: SystemExit) -> bool:
    """Whether Click or rich ended the run with exit 1 because stdout's reader left
    while help was printed (``clv --help | head -1``): both turn the broken pipe into
    ``SystemExit(1)``. Then the run ends quietly with 0 instead, as the data commands
    do, and Click's wrappers of stdout and stderr are taken off again."""
    cause = exc.__context__
    if not (isinstance(cause, OSError) and cause.errno == errno.EPIPE):
        return False
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if type(stream).__name__ == "PacifyFlushWrapper":
            setattr(sys, name, stream.wrapped)
    _silence_stdout()
    return True


def _usage_error(exc: Exception) -> int:
    """One line for an option-parsing error, with where to find help."""
    message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
    message = message.replace("Value error, ", "")
    ctx = getattr(exc, "ctx", None)
    command_path = ctx.command_path if ctx is not None else "clv"
    if type(exc).__name__ == "NoArgsIsHelpError" and ctx is not None:
        print(ctx.get_help())
        return 0
    code = int(getattr(exc, "exit_code", 2) or 2)
    error(
        f"{command_path}: {message[:1].lower() + message[1:]}",
        f"see '{command_path} --help'",
        exit_code=code,
    )
    return code


def _flush_stdout() -> None:
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _silence_stdout()


def _settle_stdout(code: int) -> int:
    """Push out what stdout still holds, so that no write fails after the exit code
    is chosen: a reader that left is quiet (0); a stdout that cannot take the data
    (``> /dev/full``, a full disk) is an output error, exit 5. Either way what is left
    goes to /dev/null, so Python's own flush at exit has nothing to fail on."""
    try:
        if sys.stdout is not None:
            sys.stdout.flush()
    except OSError as exc:
        _silence_stdout()
        if exc.errno != errno.EPIPE and code == 0:
            error(f"cannot write to stdout: {exc.strerror or exc}", exit_code=5)
            return 5
    except ValueError:  # stdout already closed
        pass
    return code


def _silence_stdout() -> None:
    """After the reader closed the pipe, send what is left to /dev/null."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
