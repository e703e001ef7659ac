"""report.pdf through a headless browser driven on its DevTools pipe."""

import logging
import shutil
import subprocess
from pathlib import Path

import pytest

from hzspatial.printing import PdfJob

CHROMIUM = "/usr/bin/chromium"


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.skipif(not Path(CHROMIUM).exists() or shutil.which("pdftotext") is None,
                    reason="needs Debian chromium and poppler-utils")  # fmt: skip
def test_prints_an_a4_pdf_with_chinese_text(tmp_path, monkeypatch):
    """…and the browser writes nothing outside the output folder (its crash reporter kept
    writing under ~/.config)."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    html = tmp_path / "r & <x>.html"  # a name a URL must escape
    page = ("<!DOCTYPE html><meta charset='utf-8'><style>@page { size: A4 }</style>"
            "<h1>汉中市 15 分钟生活圈</h1><p>Walking access</p>")  # fmt: skip
    html.write_text(page, encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    job = PdfJob(CHROMIUM, out / "report.pdf")
    job.print(html)
    assert job.finish()
    text = subprocess.run(["pdftotext", str(out / "report.pdf"), "-"], capture_output=True,
                          text=True, check=True).stdout  # fmt: skip
    assert "汉中市 15 分钟生活圈" in text and "Walking access" in text
    info = subprocess.run(["pdfinfo", str(out / "report.pdf")], capture_output=True, text=True)
    assert "A4" in info.stdout
    assert _leftovers(out) == ["report.pdf"]  # the browser profile is gone
    assert [p.relative_to(home) for p in home.rglob("*")] == []


def test_no_browser_says_so_and_writes_nothing(tmp_path, caplog):
    with caplog.at_level(logging.INFO, logger="hzspatial.printing"):
        job = PdfJob(None, tmp_path / "report.pdf")
        job.print(tmp_path / "missing.html")
        assert job.finish() is False
    assert "no Chromium-family browser found" in caplog.text
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize("browser", ["/bin/false", "/no/such/browser"])
def test_a_browser_that_dies_is_reported_not_waited_for(tmp_path, caplog, browser):
    """A program that exits at once (or is missing) gives a warning naming it, no PDF, no
    profile folder left behind, and no wait for the timeout."""
    html = tmp_path / "r.html"
    html.write_text("<p>x</p>", encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    with caplog.at_level(logging.WARNING, logger="hzspatial.printing"):
        job = PdfJob(browser, out / "report.pdf")
        job.print(html)
        assert job.finish() is False
    assert "report.pdf not written" in caplog.text and browser in caplog.text
    assert _leftovers(out) == []


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian chromium")
def test_a_report_that_cannot_be_opened_is_reported(tmp_path, caplog):
    out = tmp_path / "out"
    out.mkdir()
    with caplog.at_level(logging.WARNING, logger="hzspatial.printing"):
        job = PdfJob(CHROMIUM, out / "report.pdf")
        job.print(tmp_path / "nowhere" / "report.html")
        assert job.finish() is False
    assert "report.pdf not written" in caplog.text
    assert _leftovers(out) == []


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian chromium")
def test_a_failed_write_leaves_no_browser_running(tiny_world, tmp_path, monkeypatch):
    """The browser starts with the outputs; when a later writer fails it is stopped, and
    nothing is left in --out."""
    import hzspatial.report
    from hzspatial import FacilityInput, run_coverage
    from hzspatial.outputs import write_coverage

    res = run_coverage(tiny_world / "streets.gpkg", [FacilityInput(tiny_world / "kg.csv")],
                       tiny_world / "community.geojson", tiny_world / "community.geojson",
                       require_standards=False)  # fmt: skip

    def broken(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(hzspatial.report, "write_tables_xlsx", broken)
    monkeypatch.setenv("HZSPATIAL_CHROMIUM", CHROMIUM)
    out = tmp_path / "out"
    with pytest.raises(OSError, match="disk full"):
        write_coverage(res, out)
    assert not out.exists() or _leftovers(out) == []
    left = subprocess.run(["pgrep", "-f", f"user-data-dir={tmp_path}"], capture_output=True)
    assert left.stdout == b""


def test_a_program_that_is_not_a_browser_is_given_up_on(tmp_path, caplog, monkeypatch):
    """HZSPATIAL_CHROMIUM naming a program that runs but never answers on the DevTools pipe:
    the report is not printed, the warning says why, and nothing waits for the full print
    timeout."""
    import time

    import hzspatial.printing

    monkeypatch.setattr(hzspatial.printing, "HANDSHAKE_S", 1.0)
    silent = tmp_path / "silent-browser"
    silent.write_text("#!/bin/sh\nexec sleep 60\n", encoding="utf-8")
    silent.chmod(0o755)
    html = tmp_path / "r.html"
    html.write_text("<p>x</p>", encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    t = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="hzspatial.printing"):
        job = PdfJob(str(silent), out / "report.pdf")
        job.print(html)
        assert job.finish() is False
    assert time.monotonic() - t < 8
    assert "does not answer on its DevTools pipe" in caplog.text
    assert _leftovers(out) == []


def test_writing_leaves_the_callers_garbage_collection_alone(tiny_world, tmp_path):
    """The drawing process freezes its own heap (so that collecting does not copy the memory
    it shares with its parent); the caller's — a notebook or a service writing many runs —
    is not frozen, or its cyclic garbage would never be freed."""
    import gc

    from hzspatial import FacilityInput, run_coverage
    from hzspatial.outputs import write_coverage

    res = run_coverage(tiny_world / "streets.gpkg", [FacilityInput(tiny_world / "kg.csv")],
                       tiny_world / "community.geojson", tiny_world / "community.geojson",
                       require_standards=False)  # fmt: skip
    before = gc.get_freeze_count()
    write_coverage(res, tmp_path / "out", pdf=False)
    assert gc.get_freeze_count() == before
    assert (tmp_path / "out" / "map.png").is_file()


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian chromium")
def test_the_browser_builds_no_address_bar_popup(tmp_path):
    """Headless Chromium preloaded its address bar's suggestion popup (a WebUI page in its own
    renderer: more than half of its start-up CPU), which a PDF printer never shows."""
    import time

    job = PdfJob(CHROMIUM, tmp_path / "report.pdf")
    try:
        job._pipe.call("Target.createTarget", {"url": "about:blank"}, None, time.monotonic() + 30)
        time.sleep(1.0)  # the popup was made within a second of the start
        targets = job._pipe.call("Target.getTargets", {}, None, time.monotonic() + 10)
        urls = [t["url"] for t in targets["targetInfos"]]
        assert urls and not [u for u in urls if u.startswith("chrome://omnibox")], urls
    finally:
        job.abort()


_DOT = ("data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8Dw"
        "HwAFBQIAX8jx0gAAAABJRU5ErkJggg==")  # fmt: skip


@pytest.mark.skipif(not Path(CHROMIUM).exists() or shutil.which("pdfimages") is None,
                    reason="needs Debian chromium and poppler-utils")  # fmt: skip
def test_a_preloaded_page_is_printed_with_its_images_put_in(tmp_path, caplog):
    """The report's text is laid out while its maps are drawn; the maps are put into the
    loaded page and it is printed: the PDF holds the text and the image. An image the page
    has no place for is an error, reported, with no PDF."""
    page = ("<!DOCTYPE html><meta charset='utf-8'><h1>汉中 report</h1>"
            "<img id='hz-map-0' src='data:image/jpeg;base64,' style='width:40mm'>")  # fmt: skip
    html = tmp_path / "report.html"
    html.write_text(page.replace("data:image/jpeg;base64,", _DOT), encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    job = PdfJob(CHROMIUM, out / "report.pdf")
    job.preload(page)
    job.print(html, {"hz-map-0": _DOT})
    assert job.finish()
    images = subprocess.run(["pdfimages", "-list", str(out / "report.pdf")], capture_output=True,
                            text=True, check=True).stdout.splitlines()[2:]  # fmt: skip
    text = subprocess.run(["pdftotext", str(out / "report.pdf"), "-"], capture_output=True,
                          text=True, check=True).stdout  # fmt: skip
    assert len(images) == 1 and "汉中 report" in text
    assert _leftovers(out) == ["report.pdf"]
    with caplog.at_level(logging.WARNING, logger="hzspatial.printing"):
        job = PdfJob(CHROMIUM, out / "second.pdf")
        job.preload(page)
        job.print(html, {"hz-map-7": _DOT})
        assert job.finish() is False
    assert "could not put the maps into the report" in caplog.text
    assert not (out / "second.pdf").exists()


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian chromium")
def test_an_aborted_browser_leaves_no_process_writing_into_out(tmp_path):
    """CI found ``--out`` left behind after an input error: Chromium's crash handlers run in
    their own session (outside the browser's process group) with their database inside the
    profile, and one was still writing there when the profile was removed. Aborting now
    stops every process that names the profile, then removes it."""
    import os
    import time

    out = tmp_path / "out"
    out.mkdir()
    job = PdfJob(CHROMIUM, out / "report.pdf")
    profile = job._profile

    def naming_profile() -> list[str]:
        found = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                state = stat.read_text().rsplit(")", 1)[1].split()[0]
                line = (stat.parent / "cmdline").read_bytes()
            except (OSError, IndexError):
                continue
            if state != "Z" and profile.encode() in line and stat.parent.name != str(os.getpid()):
                found.append(line.split(b"\0")[0].decode(errors="replace"))
        return found

    deadline = time.monotonic() + 10
    while not any("crashpad" in n for n in naming_profile()) and time.monotonic() < deadline:
        time.sleep(0.02)
    job.abort()
    assert naming_profile() == []
    assert _leftovers(out) == []
