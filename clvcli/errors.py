"""Errors users can act on, each carrying the exit code of CONTRACT.md.

The library raises these with a sentence a user understands and, where one helps, a
hint; only the CLI layer turns them into stderr lines and exit codes.
"""

from __future__ import annotations


class ClvError(Exception):
    """Base of every error clv reports without a traceback."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class UsageError(ClvError):
    """An option value that cannot work (exit 2)."""

    exit_code = 2


class InputError(ClvError):
    """The input cannot be read or holds bad values (exit 3)."""

    exit_code = 3


class ModelError(ClvError):
    """A model fit failed or had too little data (exit 4)."""

    exit_code = 4


class OutputError(ClvError):
    """The output cannot be written (exit 5)."""

    exit_code = 5


class LockError(ClvError):
    """Another run holds the lock file (exit 6)."""

    exit_code = 6


class TooLittleDataError(ModelError):
    """The data cannot identify the model (say, nobody bought twice); exit 4.

    `clv compute` catches it and still gives the historical columns.
    """


class ReaderLeft(Exception):
    """The program reading stdout closed the pipe (``clv ... | head``): the run ends
    quietly with exit code 0, as Unix tools do."""
