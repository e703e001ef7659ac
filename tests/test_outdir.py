"""Output folders: checked before the work, locked, written all or nothing, never over the
user's own files, staged on the destination's own file system, cleaned after a killed run."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from hzspatial.errors import InputError
from hzspatial.io import output_lock, prepare_out_dir, staged_output
from hzspatial.io.outdir import BACKUP_PREFIX, LOCK, MANIFEST, STAGE_PREFIX

EXE = str(Path(sys.executable).parent / "hzspatial")


def write_outputs(out: Path, text: str, **kw) -> None:
    with staged_output(out, **kw) as stage:
        for name in ("summary.json", "map.png"):
            (stage / name).write_text(json.dumps({"version": "t", "text": text}))


def test_new_empty_and_earlier_output_folders_are_written(tmp_path):
    out = tmp_path / "new" / "deeper"
    write_outputs(out, "one")
    assert json.loads((out / MANIFEST).read_text())["files"] == ["map.png", "summary.json"]
    write_outputs(out, "two")
    assert json.loads((out / "summary.json").read_text())["text"] == "two"
    assert sorted(p.name for p in out.iterdir()) == [MANIFEST, "map.png", "summary.json"]


def test_the_users_own_files_are_never_overwritten_silently(tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "summary.json").write_text("my own notes")
    (out / "plan.docx").write_text("draft")
    with pytest.raises(InputError, match=r"did not write \(plan.docx, summary.json\).*--overwrite"):
        write_outputs(out, "x")
    assert (out / "summary.json").read_text() == "my own notes"
    write_outputs(out, "x", overwrite=True)  # asked for: outputs replaced, the rest left alone
    assert (out / "plan.docx").read_text() == "draft"


@pytest.mark.parametrize("bad", ["", "   ", "afile", "afile/sub"])
def test_impossible_out_folders_are_refused_before_any_work(tmp_path, bad):
    (tmp_path / "afile").write_text("x")
    os.chdir(tmp_path)
    with pytest.raises(InputError) as e:
        prepare_out_dir(bad)
    assert "\n" not in str(e.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]


def test_unwritable_place_is_refused():
    with pytest.raises(InputError, match="cannot write there"):
        prepare_out_dir("/proc/hzspatial-test-out")


def test_a_failed_swap_restores_the_previous_outputs(tmp_path, monkeypatch):
    """Fault injection: on Windows a file open in Excel cannot be moved; no such lock exists
    on Linux, so moving the old summary.json aside is made to fail as it would there (after
    map.png was already moved aside, which must be put back)."""
    out = tmp_path / "out"
    write_outputs(out, "old")
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    real = Path.replace

    def replace(self, target):
        if self == out / "summary.json":
            raise PermissionError(13, "The process cannot access the file")
        return real(self, target)

    monkeypatch.setattr(Path, "replace", replace)
    with pytest.raises(InputError) as e:
        write_outputs(out, "new")
    monkeypatch.undo()
    assert "could not replace summary.json" in str(e.value) and "restored unchanged" in str(e.value)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


@pytest.mark.skipif(not os.path.ismount("/dev/shm") or not os.access("/dev/shm", os.W_OK),
                    reason="no writable mount point to test on")  # fmt: skip
def test_staging_works_when_out_is_a_mount_point():
    """/dev/shm is its own file system: staging beside it (in /dev) would need a move across
    devices (EXDEV); staging inside it does not."""
    out = Path("/dev/shm")
    assert os.stat(out).st_dev != os.stat(out.parent).st_dev
    name = f"hzspatial-test-{os.getpid()}.txt"
    try:
        with staged_output(out, overwrite=True) as stage:
            assert stage.parent == out
            (stage / name).write_text("ok")
        assert (out / name).read_text() == "ok"
    finally:
        (out / name).unlink(missing_ok=True)
        (out / MANIFEST).unlink(missing_ok=True)


def test_a_second_run_is_refused_and_a_stale_lock_taken_over(tmp_path):
    out = tmp_path / "out"
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; from hzspatial.io import output_lock\n"
        f"with output_lock({str(out)!r}):\n    print('held', flush=True); time.sleep(30)")],
        stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(InputError, match=rf"another hzspatial run \(pid {holder.pid}"):
            write_outputs(out, "second")
    finally:
        holder.kill()
        holder.wait()
    assert (out / LOCK).exists()  # the killed holder could not clean up …
    write_outputs(out, "third")  # … and its lock is taken over
    assert not (out / LOCK).exists()


def test_leftovers_of_a_killed_run_are_cleaned(tmp_path):
    out = tmp_path / "out"
    write_outputs(out, "old")
    (out / f"{STAGE_PREFIX}abc").mkdir()
    (out / f"{STAGE_PREFIX}abc" / "map.png").write_text("half")
    aside = out / f"{BACKUP_PREFIX}def"
    aside.mkdir()
    (out / "summary.json").replace(aside / "summary.json")  # killed mid-swap
    with output_lock(out):
        names = sorted(p.name for p in out.iterdir())
        assert names == sorted([LOCK, MANIFEST, "map.png", "summary.json"])
    assert json.loads((out / "summary.json").read_text())["text"] == "old"


def test_sigterm_ends_like_ctrl_c_and_leaves_the_folder_as_it_was(tmp_path):
    out = tmp_path / "out"
    write_outputs(out, "previous")
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    proc = subprocess.Popen([EXE, "demo", "--out", str(out)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip
    # stopped mid-run, once the analysis says it has begun (a fixed wait outlived the demo)
    seen = []
    while not any(line.startswith("threshold:") for line in seen):
        line = proc.stderr.readline()
        assert line, f"the demo ended before its analysis began: {seen}"
        seen.append(line)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, "".join(seen) + err
    assert err.strip().splitlines()[-1] == (
        "hzspatial: interrupted; the output folder is left as it was"
    )
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_cli_refuses_a_bad_out_before_the_analysis(tmp_path):
    (tmp_path / "afile").write_text("x")
    proc = subprocess.run([EXE, "demo", "--out", str(tmp_path / "afile" / "sub")],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1].startswith("hzspatial: error:")
    assert "threshold" not in proc.stderr  # stopped before reading any input
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]


def test_a_link_named_like_a_leftover_is_removed_not_followed(tmp_path):
    """A symlink OUT/.hzspatial-previous-x to an outside folder made a rerun move that
    folder's files into OUT."""
    out = tmp_path / "out"
    write_outputs(out, "one")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "secret.txt").write_text("not yours")
    (out / f"{BACKUP_PREFIX}x").symlink_to(outside, target_is_directory=True)
    write_outputs(out, "two")
    assert (outside / "secret.txt").read_text() == "not yours"
    assert not (out / "secret.txt").exists() and not (out / f"{BACKUP_PREFIX}x").exists()


@pytest.mark.parametrize("entries", [["../victim.txt"], ["thesis.docx", "photos"],
                                     ["/etc/passwd", 5, None]])  # fmt: skip
def test_manifest_entries_are_untrusted(tmp_path, entries):
    """A manifest entry ../victim.txt pulled a sibling file in; one listing thesis.docx or a
    photos/ folder got them deleted without --overwrite."""
    out = tmp_path / "out"
    write_outputs(out, "one")
    (tmp_path / "victim.txt").write_text("sibling")
    (out / "thesis.docx").write_text("years of work")
    (out / "photos").mkdir()
    (out / "photos" / "a.jpg").write_text("jpg")
    m = json.loads((out / MANIFEST).read_text())
    m["files"] += entries
    (out / MANIFEST).write_text(json.dumps(m))
    write_outputs(out, "two")
    assert (tmp_path / "victim.txt").read_text() == "sibling"
    assert (out / "thesis.docx").read_text() == "years of work"
    assert (out / "photos" / "a.jpg").read_text() == "jpg"


def test_a_users_summary_with_a_version_key_is_not_taken_for_an_output(tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "summary.json").write_text(json.dumps({"version": 3, "notes": "my project"}))
    (out / "map.html").write_text("<p>my map</p>")
    with pytest.raises(InputError, match="did not write"):
        write_outputs(out, "x")
    assert json.loads((out / "summary.json").read_text())["notes"] == "my project"


def test_overwrite_leaves_a_users_folder_named_like_an_output(tmp_path):
    """--overwrite deleted a user's folder named report.html/ with a document inside."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "map.png").mkdir()
    (out / "map.png" / "doc.txt").write_text("mine")
    with pytest.raises(InputError, match="a folder named map.png"):
        write_outputs(out, "x", overwrite=True)
    assert (out / "map.png" / "doc.txt").read_text() == "mine"


def test_a_swap_killed_midway_is_rolled_back_to_one_runs_outputs(tmp_path, monkeypatch):
    """SIGKILL during the swap, then a failing rerun: the folder mixed two runs."""
    import hzspatial.io.outdir as od

    out = tmp_path / "out"
    write_outputs(out, "old")
    real = Path.replace
    moved = []

    def dies(self, target):  # killed after the first new file is moved in
        if Path(self).parent.name.startswith(STAGE_PREFIX) and moved:
            raise SystemExit("killed")
        if Path(self).parent.name.startswith(STAGE_PREFIX):
            moved.append(self)
        return real(self, target)

    monkeypatch.setattr(Path, "replace", dies)
    monkeypatch.setattr(od.shutil, "rmtree", lambda *a, **k: None)  # a kill cleans nothing
    with pytest.raises(SystemExit):
        write_outputs(out, "new")
    monkeypatch.undo()
    (out / LOCK).unlink(missing_ok=True)
    texts = {json.loads((out / n).read_text())["text"] for n in ("summary.json", "map.png")
             if (out / n).exists()}  # fmt: skip
    assert texts == {"old", "new"} or len(texts) < 2  # mixed (or half) until the next run
    with output_lock(out):
        pass  # the next run into the folder cleans up first
    assert {json.loads((out / n).read_text())["text"] for n in ("summary.json", "map.png")} \
        == {"old"}  # fmt: skip


@pytest.mark.parametrize("content", ['{"pid": "abc", "host": "%s"}', '{"pid": 1e30, "host": "%s"}',
                                     '[1, 2]', '{"pid": 99999999999999999999, "host": "%s"}',
                                     "not json"])  # fmt: skip
def test_a_garbled_lock_is_taken_over_not_a_crash(tmp_path, content):
    """A lock file with a non-numeric or huge pid, or a JSON list, crashed the run. A lock of
    this host naming no live process is taken over; one that names no holder at all (it may
    be a run writing its lock this instant) is refused in one line."""
    import socket

    out = tmp_path / "out"
    out.mkdir()
    text = content % socket.gethostname() if "%s" in content else content
    (out / LOCK).write_text(text)
    if "%s" in content:
        write_outputs(out, "x")
        assert json.loads((out / "summary.json").read_text())["text"] == "x"
    else:
        with pytest.raises(InputError, match="delete .hzspatial.lock"):
            write_outputs(out, "x")


@pytest.mark.parametrize("name", ["a" * 300, "bad\x00name", "x/" + "名" * 100])
def test_out_names_the_file_system_cannot_hold_are_refused(tmp_path, name):
    """A NUL byte or a 300-character --out name crashed (exit 3)."""
    with pytest.raises(InputError, match="--out"):
        prepare_out_dir(tmp_path / name)


def test_a_full_disk_is_one_line_and_leaves_the_folder_as_it_was(tiny_world, tmp_path):
    """A full disk (EFBIG under ulimit -f) crashed coverage and site with a traceback."""
    import resource

    def limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))

    out = tmp_path / "out"
    write_outputs(out, "old")
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    for cmd in (["coverage", "--facilities", str(tiny_world / "kg.csv"), "--category",
                 "kindergarten", "--no-standards-check"],
                ["site", "--facilities", str(tiny_world / "kg.csv"), "--category",
                 "kindergarten", "--add", "1"]):  # fmt: skip
        proc = subprocess.run([EXE, *cmd, "--network", str(tiny_world / "streets.gpkg"),
                               "--population", str(tiny_world / "community.geojson"),
                               "--boundaries", str(tiny_world / "community.geojson"),
                               "--out", str(out), "--quiet"], preexec_fn=limit,
                              capture_output=True, text=True, timeout=300)  # fmt: skip
        assert proc.returncode == 2, proc.stderr
        assert "Traceback" not in proc.stderr and "cannot write the outputs" in proc.stderr
        assert {p.name: p.read_bytes() for p in out.iterdir()} == before
