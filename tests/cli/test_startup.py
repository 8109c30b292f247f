"""Start-up cost: help and --version never load the data and model libraries.

`clv --help` should answer at once. Each command imports pandas, pyarrow, numpy or
scipy inside its function, when it runs, so a module-level import of one of them
anywhere under the command line would show up here.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

SHOP = Path(__file__).resolve().parents[2] / "sample_data" / "shop.csv"
HEAVY = ("pandas", "pyarrow", "numpy", "scipy", "duckdb", "matplotlib", "xlsxwriter")
COMMANDS = (
    "compute",
    "segment",
    "summary",
    "stages",
    "cohorts",
    "cac",
    "fit",
    "validate",
    "report",
    "retention",
    "formula",
    "formula simple",
    "formula historical",
)

# Runs each argv in one fresh interpreter and reports, after each, the heavy
# top-level packages that have been imported so far.
SCRIPT = textwrap.dedent(
    """
    import contextlib, io, json, sys
    from clvcli.cli.main import main

    heavy = set(sys.argv[1].split(","))
    report = []
    for argv in json.loads(sys.argv[2]):
        with contextlib.redirect_stdout(io.StringIO()) as out:
            code = main(argv)
        loaded = sorted({name.split(".")[0] for name in sys.modules} & heavy)
        report.append({"argv": argv, "code": code, "out": len(out.getvalue()), "heavy": loaded})
    print(json.dumps(report))
    """
)


def run_in_fresh_interpreter(argvs: list[list[str]]) -> list[dict]:
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, ",".join(HEAVY), json.dumps(argvs)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_importing_the_app_loads_no_heavy_library():
    result = subprocess.run(
        [sys.executable, "-c", "import sys, clvcli.cli.main; print(','.join(sys.modules))"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    loaded = {name.split(".")[0] for name in result.stdout.strip().split(",")}
    assert sorted(loaded & set(HEAVY)) == []


def test_help_and_version_load_no_heavy_library():
    argvs = [["--help"], ["--version"], *([*name.split(), "--help"] for name in COMMANDS)]
    for step in run_in_fresh_interpreter(argvs):
        assert step["code"] == 0, step
        assert step["out"] > 0, step
        assert step["heavy"] == [], f"clv {' '.join(step['argv'])} imported {step['heavy']}"


def test_a_usage_error_loads_no_heavy_library():
    # Checked before any work: a mistyped option should fail as fast as help.
    [step] = run_in_fresh_interpreter([["segment", "sales.csv", "--stage", "nope"]])
    assert step["code"] == 2
    assert step["heavy"] == []


def test_python_dash_m_writes_the_whole_output_and_exit_code(tmp_path):
    out = tmp_path / "values.csv"
    ran = subprocess.run(
        [sys.executable, "-m", "clvcli", "compute", str(SHOP), "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ran.returncode == 0, ran.stderr
    lines = out.read_text().splitlines()
    assert lines[0].startswith("customer_id,")
    assert len(lines) > 10
    missing = subprocess.run(
        [sys.executable, "-m", "clvcli", "compute", str(tmp_path / "nope.csv")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert missing.returncode == 3
