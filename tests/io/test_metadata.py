"""The inputs' digests in a run's metadata, computed on a thread while the run goes on."""

from __future__ import annotations

import hashlib

import pytest

from clvcli.io import metadata
from clvcli.io.source import load_input


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_digest_started_early_is_the_one_the_metadata_gives(tmp_path, monkeypatch):
    log = tmp_path / "log.csv"
    log.write_bytes(b"customer_id,date,amount\n" + b"A,2024-01-01,5\n" * 50_000)
    metadata.digest_in_background(str(log))
    assert str(log) in metadata._started
    calls = []
    monkeypatch.setattr(metadata, "file_sha256", lambda path: calls.append(path) or "again")
    described = metadata.run_metadata({"inputs": [str(log)]})["inputs"]
    assert described == [{"path": str(log), "sha256": _digest(log)}]
    assert calls == []  # the background digest was used, not a second pass
    assert str(log) not in metadata._started


def test_every_file_of_a_folder_and_a_loaded_input(tmp_path):
    folder = tmp_path / "parts"
    folder.mkdir()
    for name in ("a.csv", "b.csv"):
        (folder / name).write_text(f"customer_id,date,amount\n{name},2024-01-01,1\n")
    metadata.digest_in_background(str(folder))
    described = metadata.run_metadata({"inputs": [str(folder)]})["inputs"]
    assert [item["sha256"] for item in described] == [
        _digest(folder / "a.csv"),
        _digest(folder / "b.csv"),
    ]
    loaded = load_input(str(folder / "a.csv"))
    metadata.digest_in_background(loaded)
    assert metadata.run_metadata({"inputs": [loaded]})["inputs"][0]["sha256"] == _digest(
        folder / "a.csv"
    )


def test_nothing_to_digest_is_no_error(tmp_path):
    metadata.digest_in_background(str(tmp_path / "missing.csv"))
    metadata.digest_in_background(str(tmp_path / "*.parquet"))
    metadata.digest_in_background("-")
    assert not [path for path in metadata._started if path.startswith(str(tmp_path))]


def test_a_file_that_goes_away_reports_as_before(tmp_path):
    log = tmp_path / "log.csv"
    log.write_text("x")
    started = metadata._Digest(str(log))
    assert started.result() == _digest(log)
    gone = metadata._Digest(str(tmp_path / "gone.csv"))
    with pytest.raises(OSError):  # as file_sha256 itself raises
        gone.result()


@pytest.mark.parametrize(
    ("options", "digested"),
    [
        ((), False),
        (("-o", "out.parquet"), True),
        (("--format", "parquet"), True),
        (("-o", "out.csv", "--sidecar"), True),
        (("-o", "out.csv"), False),
    ],
)
def test_only_outputs_that_record_digests_start_one(clv, monkeypatch, tmp_path, options, digested):
    from clvcli.cli import common
    from tests.conftest import SAMPLE

    started = []
    monkeypatch.setattr(common, "digest_in_background", started.append)
    monkeypatch.chdir(tmp_path)
    result = clv("compute", SAMPLE / "shop.csv", "--model", "none", "-q", *options)
    assert result.exit_code == 0, result.stderr
    assert bool(started) is digested


def test_a_file_that_changed_while_the_run_read_it_gets_no_digest(tmp_path):
    """An export still being written: the digest would be of bytes the output was
    not computed from. Appended to, or replaced, it is refused; kept, it is digested."""
    from clvcli.errors import InputError
    from clvcli.io.targets import Named, input_state

    log = tmp_path / "log.csv"
    log.write_text("customer_id,date,amount\nA,2024-01-01,5\n")
    state = input_state([Named("INPUT", str(log))])
    assert metadata.run_metadata({"inputs": [str(log)], "input_state": state})["inputs"]
    with log.open("a") as more:
        more.write("B,2024-01-02,7\n")
    with pytest.raises(InputError, match="changed while clv read it"):
        metadata.run_metadata({"inputs": [str(log)], "input_state": state})
    state = input_state([Named("INPUT", str(log))])
    replaced = tmp_path / "new.csv"
    replaced.write_text(log.read_text())
    replaced.replace(log)  # the same bytes, another file: not the one the run read
    with pytest.raises(InputError, match="changed while clv read it"):
        metadata.run_metadata({"inputs": [str(log)], "input_state": state})


def test_a_run_whose_input_grows_meanwhile_writes_no_output(clv, tmp_path, monkeypatch):
    log = tmp_path / "log.csv"
    log.write_text("customer_id,date,amount\nA,2024-01-01,5\nA,2024-02-01,6\nB,2024-01-03,7\n")
    hashed = metadata.file_sha256

    def grown_first(path):  # the exporter appends while clv digests
        with open(path, "a") as more:
            more.write("C,2024-03-01,9\n")
        return hashed(path)

    monkeypatch.setattr(metadata, "file_sha256", grown_first)
    out = tmp_path / "out.csv"
    result = clv("compute", log, "--model", "none", "-o", out, "--sidecar")
    assert result.exit_code == 3
    assert "changed while clv read it" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["log.csv"]
