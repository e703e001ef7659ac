"""The whole CLI over a corpus of hostile files (tests/hostile/): exit 0 or 2 — never 3,
never a traceback —, nothing written outside --out, the user's files untouched."""

import hashlib
from pathlib import Path

import pytest

from hzspatial.cli import main

CORPUS = Path(__file__).parent / "hostile"
FILES = sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.name != "README.md")


def digest(folder: Path, skip: Path | None = None) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*"))
            if p.is_file() and (skip is None or skip not in p.parents)}  # fmt: skip


@pytest.mark.parametrize("bad", FILES, ids=lambda p: str(p.relative_to(CORPUS)))
def test_cli_over_the_hostile_corpus(bad, tiny_world, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "my_notes.txt").write_text("the user's own file")
    corpus_before = digest(CORPUS)
    args = {
        "facilities": str(tiny_world / "kg.csv"),
        "population": str(tiny_world / "community.geojson"),
        "standards": "hanzhong",
    }
    args[bad.parent.name] = str(bad)
    out = tmp_path / "out"
    rc = main(["coverage", "--network", str(tiny_world / "streets.gpkg"),
               "--facilities", args["facilities"], "--category", "kindergarten",
               "--population", args["population"], "--boundaries",
               str(tiny_world / "community.geojson"), "--standards", args["standards"],
               "--no-standards-check", "--out", str(out), "--quiet"])  # fmt: skip
    err = capsys.readouterr().err
    assert rc in (0, 2), err
    assert "Traceback" not in err
    if rc == 2:
        lines = [ln for ln in err.splitlines() if ln.startswith("hzspatial: error:")]
        assert len(lines) == 1 and str(bad.name) in lines[0] + str(args), err
        assert not out.exists()
    else:
        html = (out / "map.html").read_text("utf-8")
        assert "<img src=x" not in html and "${alert" not in html
    assert digest(tmp_path, skip=out) == {"my_notes.txt": hashlib.sha256(
        b"the user's own file").hexdigest()}  # fmt: skip
    assert digest(CORPUS) == corpus_before
