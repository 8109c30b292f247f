"""Data and configuration never run as code: no eval, no shell, no unpickling.

A scan of the package's syntax trees, so a change that adds one fails here.
"""

from __future__ import annotations

import ast
from pathlib import Path

import clvcli

PACKAGE = Path(clvcli.__file__).parent
FORBIDDEN_CALLS = {"eval", "exec", "compile", "__import__"}
FORBIDDEN_ATTRIBUTES = {
    ("os", "system"),
    ("os", "popen"),
    ("pickle", "loads"),
    ("pickle", "load"),
    ("yaml", "load"),
    ("marshal", "loads"),
}


def calls() -> list[tuple[Path, ast.Call]]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        found.extend((path, node) for node in ast.walk(tree) if isinstance(node, ast.Call))
    return found


def test_the_scan_sees_the_package():
    assert len(calls()) > 500


def test_no_eval_exec_or_dynamic_import():
    bad = [
        f"{path.relative_to(PACKAGE)}:{node.lineno}"
        for path, node in calls()
        if isinstance(node.func, ast.Name) and node.func.id in FORBIDDEN_CALLS
    ]
    assert bad == []


def test_no_shell_and_no_unpickling():
    bad = []
    for path, node in calls():
        func = node.func
        is_call_on_module = isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)
        if is_call_on_module and (func.value.id, func.attr) in FORBIDDEN_ATTRIBUTES:
            bad.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
        for keyword in node.keywords:
            if keyword.arg == "shell" and not (
                isinstance(keyword.value, ast.Constant) and keyword.value.value is False
            ):
                bad.append(f"{path.relative_to(PACKAGE)}:{node.lineno} shell=")
    assert bad == []
