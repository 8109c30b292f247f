"""What a run records about itself, so an output file can be traced to the run that
made it: clv's version, the command and its options, the as-of date, the fitted
models' parameters and the SHA-256 of every input file.

Nothing here varies between two runs on the same input with the same options (no
clock time, no host name), so outputs stay byte-identical.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from typing import Any

from clvcli import __version__
from clvcli.errors import InputError
from clvcli.io.names import without_surrogates
from clvcli.io.source import STDIN, LoadedInput, input_files, is_many
from clvcli.io.targets import changed_since

METADATA_KEY = b"clv"
_CHUNK = 1 << 20


def run_metadata(record: dict[str, Any]) -> dict[str, Any]:
    """The metadata of a run from what its command recorded along the way."""
    state = record.get("input_state", {})
    inputs = [_describe(source, state) for source in record.get("inputs", [])]
    return _writable(
        {
            "clv_version": __version__,
            "command": record.get("command"),
            "as_of": record.get("as_of"),
            "options": record.get("options", {}),
            "models": record.get("models", {}),
            "inputs": [item for group in inputs for item in group],
        }
    )


def _writable(value: Any) -> Any:
    """``value`` with file names that are not UTF-8 written as ``\\xNN``, so that
    JSON, Parquet and a report can hold them (see clvcli.io.names)."""
    if isinstance(value, str):
        return without_surrogates(value)
    if isinstance(value, dict):
        return {_writable(key): _writable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_writable(item) for item in value]
    return value


def metadata_json(metadata: dict[str, Any]) -> str:
    """Stable JSON: sorted keys, so the same run gives the same bytes."""
    return json.dumps(metadata, ensure_ascii=False, sort_keys=True, indent=1, default=str) + "\n"


def file_sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class _Digest:
    """A file's SHA-256 computed on a thread of its own (hashlib lets go of the GIL)."""

    def __init__(self, path: str) -> None:
        self._done = threading.Event()
        self._value: str | None = None
        self._error: OSError | None = None
        threading.Thread(target=self._run, args=(path,), name="clv-sha256", daemon=True).start()

    def _run(self, path: str) -> None:
        try:
            self._value = file_sha256(path)
        except OSError as exc:
            self._error = exc
        finally:
            self._done.set()

    def result(self) -> str:
        self._done.wait()
        if self._error is not None:
            raise self._error
        assert self._value is not None
        return self._value


_started: dict[str, _Digest] = {}


def digest_in_background(source: str | LoadedInput) -> None:
    """Start digesting the input's files while the run goes on with them.

    A 270 MB CSV takes 0.4 s to digest: on a second core, during the run's
    single-threaded steps, that time is not added to the run's.
    """
    for path in _files_of(source):
        if path not in _started:
            _started[path] = _Digest(path)


def _files_of(source: str | LoadedInput) -> list[str]:
    if isinstance(source, LoadedInput):
        hint = source.path_hint
        return [hint] if source.name != STDIN and os.path.isfile(hint) else []
    if source == STDIN:
        return []
    if is_many(source):
        try:
            return input_files(source)
        except InputError:
            return []
    return [source] if os.path.isfile(source) else []


def _describe(source: str | LoadedInput, state: dict[str, Any]) -> list[dict[str, Any]]:
    if isinstance(source, LoadedInput):
        if source.name != STDIN and os.path.isfile(source.path_hint):
            return [_file(source.path_hint, state)]
        return [{"path": source.name, "sha256": hashlib.sha256(source.data).hexdigest()}]
    if source == STDIN:
        return [{"path": STDIN, "sha256": None}]
    if is_many(source):
        return [_file(path, state) for path in input_files(source)]
    if not os.path.isfile(source):
        return [{"path": source, "sha256": None}]
    return [_file(source, state)]


def _file(path: str, state: dict[str, Any]) -> dict[str, Any]:
    """The file's digest, refused when the file is not the one the run set out to
    read (written to, or replaced, meanwhile): the output would claim a digest of
    bytes it was not computed from."""
    started = _started.pop(path, None)
    digest = file_sha256(path) if started is None else started.result()
    if changed_since(path, state):
        raise InputError(
            f"{path}: changed while clv read it, so the output cannot say which version "
            "it was computed from",
            "run again once the file is complete (is an export still being written?)",
        )
    return {"path": path, "sha256": digest}
