"""The README's commands run as written and print what the README shows.

Each ``$ clv ...`` line in a ``console`` block is run in a shell (from a folder
where sample_data/ and tests/ are at hand; the commands of one block run in order in
the same folder, so a block can write a file and use it); the lines shown after a
command are compared with what it printed, stderr lines (``clv: ...``, ``hint: ...``)
with stderr and the others with stdout, ignoring trailing spaces.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def examples() -> list[list[tuple[str, list[str]]]]:
    """The console blocks, each a list of (command, lines shown after it)."""
    blocks = []
    for block in re.findall(r"```console\n(.*?)```", README, flags=re.S):
        found: list[tuple[str, list[str]]] = []
        command, shown = None, []
        for line in block.splitlines():
            if line.startswith("$ "):
                if command:
                    found.append((command, shown))
                command, shown = line[2:], []
            else:
                shown.append(line)
        if command:
            found.append((command, shown))
        blocks.append(found)
    return blocks


def is_stderr(line: str) -> bool:
    return line.startswith(("clv: ", "hint: "))


def clean(lines: list[str]) -> list[str]:
    return [line.rstrip() for line in lines if line.strip()]


@pytest.mark.parametrize("block", examples(), ids=lambda b: b[0][0][:60])
def test_readme_example(block, tmp_path):
    for name in ("sample_data", "tests"):
        (tmp_path / name).symlink_to(ROOT / name)
    for command, shown in block:
        check_command(command, shown, tmp_path)


def check_command(command: str, shown: list[str], tmp_path: Path) -> None:
    bin_dir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ["PATH"], "COLUMNS": "100"}
    env.pop("NO_COLOR", None)
    result = subprocess.run(
        ["bash", "-o", "pipefail", "-c", command],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    expects_error = any(line.startswith("clv: error:") for line in shown)
    assert (result.returncode != 0) == expects_error, result.stderr
    if shown:
        assert clean(result.stdout.splitlines()) == clean(
            [line for line in shown if not is_stderr(line)]
        )
        assert clean(result.stderr.splitlines()) == clean(
            [line for line in shown if is_stderr(line)]
        )


def test_the_readme_lists_every_command():
    from clvcli.cli.main import app

    names = {info.name for info in app.registered_commands} | {
        group.name for group in app.registered_groups
    }
    for name in names:
        assert f"`clv {name}" in README, name
