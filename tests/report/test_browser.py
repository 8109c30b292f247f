"""The HTML reports opened in a real browser: headless Chromium.

Each report is loaded from its file with the network disabled; the test takes a
screenshot (decoded: not one flat colour), counts the chart figures in the rendered
DOM, and fails on any console message (the page has no script, so any message is a
blocked request or an error). Without Chromium the test skips locally; in CI (CI
set) it fails, as CI installs Chromium (see .ci/run).
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from tests.report.conftest import CHARTS

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--enable-logging=stderr",
    "--v=0",
]


@pytest.fixture(scope="module")
def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if os.environ.get("CI"):
        pytest.fail("CI must install chromium (see .ci/run)")
    pytest.skip("no chromium here (CI installs it)")
    return ""


def browse(chromium: str, page: Path, folder: Path) -> tuple[str, Image.Image, list[str]]:
    """The rendered DOM, a 1200x900 screenshot and the console lines of ``page``."""
    shot = folder / "shot.png"
    result = subprocess.run(
        [
            chromium,
            *FLAGS,
            f"--user-data-dir={folder / 'profile'}",
            "--window-size=1200,900",
            f"--screenshot={shot}",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    console = [line for line in result.stderr.splitlines() if ":CONSOLE" in line]
    image = Image.open(io.BytesIO(shot.read_bytes()))
    image.load()
    return result.stdout, image, console


@pytest.mark.parametrize("lang", ["en", "fa"])
def test_report_renders(chromium, request, tmp_path, lang):
    shop = request.getfixturevalue(f"shop_{lang}")
    dom, image, console = browse(chromium, shop.html, tmp_path)
    assert console == []
    assert image.size == (1200, 900)
    colours = image.convert("RGB").getcolors(maxcolors=1 << 16)
    assert colours is None or len(colours) > 16, "the screenshot is blank"
    assert len(re.findall(r'<svg[^>]*class="chart"', dom)) == CHARTS
    assert len(re.findall(r'<figure class="chart"[^>]*dir="ltr"', dom)) == CHARTS
    direction = "rtl" if lang == "fa" else "ltr"
    assert f'<html lang="{lang}" dir="{direction}">' in dom


def test_hostile_values_render_as_text(chromium, hostile, tmp_path):
    dom, _, console = browse(chromium, hostile("html"), tmp_path)
    assert console == []
    assert "<script" not in dom and "<b>web</b>" not in dom
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom
