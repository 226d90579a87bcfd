"""The HTML report rendered in headless Chromium: no console errors, every image loads; a screenshot is kept."""
from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import warnings
from pathlib import Path

import pytest
from tests.reports.recordgen import RecordFactory

from evalkit.reports.report import write_report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed (apt-get install -y chromium)")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

#: injected into a copy of the page: collects errors, then reports images that did not decode
PROBE = """<script>
window.__errors = [];
const __consoleError = console.error;
console.error = (...args) => { window.__errors.push(args.join(" ")); __consoleError(...args); };
window.addEventListener("error", e => window.__errors.push("load error: " + (e.message || e.target.src || e.target.href)), true);
window.addEventListener("load", () => {
  const images = [...document.images];
  const probe = document.createElement("pre");
  probe.id = "probe";
  probe.textContent = JSON.stringify({
    images: images.length,
    broken: images.filter(i => !i.complete || i.naturalWidth === 0).map(i => i.alt),
    errors: window.__errors,
    height: document.documentElement.scrollHeight,
    width: document.documentElement.scrollWidth,
    viewport: window.innerWidth,
  });
  document.body.appendChild(probe);
});
</script>"""


def _chromium(*args: str, profile: Path) -> subprocess.CompletedProcess:
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={profile}", "--hide-scrollbars", "--enable-logging=stderr", "--v=0"]
    return subprocess.run([CHROMIUM, *flags, *args], capture_output=True, text=True, timeout=90, check=True)


@pytest.fixture()
def report(tmp_path) -> Path:
    factory = RecordFactory(tmp_path / "results")
    factory.imagenet_run("resnet50", 0.78, n=200, seed=1, year=2015, throughput=1200.0)
    factory.imagenet_run("vit_b16", 0.83, n=200, seed=2, year=2020, throughput=450.0)
    factory.imagenet_run("resnet50", 0.0, n=200, seed=3, year=2015, throughput=2400.0, random_weights=True,
                         precision="fp16")
    factory.imagenet_run("alexnet", 0.55, n=200, seed=4, year=2012, drop=("state_file", "ci", "timing"))
    factory.write(factory.record("uedin-nmt", "translation", {"BLEU": 28.3}, {"BLEU": [27.5, 29.1]},
                                 main=("BLEU", True), year=2017))
    (factory.root / "notes.json").write_text("[1, 2]")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return write_report(factory.root, tmp_path / "reports", n_resamples=200)


def test_report_renders_without_errors_and_with_every_image(report, tmp_path):
    probed = report.with_name("probe.html")
    probed.write_text(report.read_text().replace("<head>", "<head>" + PROBE, 1))
    run = _chromium("--dump-dom", "--virtual-time-budget=10000", probed.as_uri(), profile=tmp_path / "profile1")
    found = re.search(r'<pre id="probe">(.*?)</pre>', run.stdout, re.S)
    assert found, f"the page never finished loading:\n{run.stderr[-2000:]}"
    result = json.loads(html.unescape(found.group(1)))
    assert result["errors"] == [] and result["broken"] == []
    assert result["images"] == report.read_text().count("<img ")
    assert result["images"] == 4  # over-years overview, imagenet speed/accuracy + over-years, translation speed/accuracy
    console = [line for line in run.stderr.splitlines() if "CONSOLE" in line]
    assert console == [], console

    shot = tmp_path / "report_index.png"
    height = min(max(int(result["height"]), 800), 8000)
    _chromium(f"--screenshot={shot}", f"--window-size=1400,{height}", report.as_uri(), profile=tmp_path / "profile2")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
    ARTIFACTS.mkdir(exist_ok=True)
    kept = shutil.copy(shot, ARTIFACTS / "report_index.png")
    print(f"screenshot of the report: {shot} (kept as {kept})")


@pytest.mark.parametrize("width, height", [(1920, 1080), (1366, 768)], ids=["desktop", "laptop"])
def test_report_fits_a_desktop_and_a_laptop_screen(report, tmp_path, width, height):
    """No horizontal scrolling of the page itself at a desktop's and a laptop's width (wide tables scroll inside)."""
    probed = report.with_name("probe.html")
    probed.write_text(report.read_text().replace("<head>", "<head>" + PROBE, 1))
    run = _chromium("--dump-dom", "--virtual-time-budget=10000", f"--window-size={width},{height}", probed.as_uri(),
                    profile=tmp_path / "profile")
    found = re.search(r'<pre id="probe">(.*?)</pre>', run.stdout, re.S)
    assert found, f"the page never finished loading:\n{run.stderr[-2000:]}"
    result = json.loads(html.unescape(found.group(1)))
    assert result["viewport"] == width and result["width"] <= width, result
    shot = tmp_path / f"report_{width}.png"
    _chromium(f"--screenshot={shot}", f"--window-size={width},{height}", report.as_uri(), profile=tmp_path / "p2")
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copy(shot, ARTIFACTS / f"report_index_{width}px.png")
