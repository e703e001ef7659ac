"""Output folders written all-or-nothing, never over the user's own files.

* **Checked before the analysis** (:func:`prepare_out_dir`): an empty name, a file, a path
  under a file, or a folder that cannot be written is refused in one line; so is a folder
  holding files hzspatial did not write (no manifest), unless ``overwrite``.
* **One run at a time** (:func:`output_lock`): a lock file in the folder refuses a second
  run into it; a lock left by a process that no longer runs is taken over.
* **All or nothing** (:func:`staged_output`): files are written into a staging folder *inside*
  the output folder — the same file system, so moves are renames even when the folder is a
  mount point (Docker volume, USB disk, network share). The previous outputs are moved aside,
  the new ones moved in, and the manifest rewritten; if any move fails, everything moved is
  put back and the previous outputs are restored untouched.
* **Leftovers** of a killed run (staging and set-aside folders) are cleaned up by the next
  run into the folder. A swap keeps a journal (:data:`JOURNAL`) of what it moves: a run
  killed in the middle of one is rolled back to the previous run's outputs, so the folder
  never holds a mix of two runs.
* **Bookkeeping is untrusted input**: manifest entries are plain names (no path, no link), and
  only names hzspatial writes (:data:`OUTPUT_NAMES`, a batch's scenario folders) are ever
  replaced; a link named like a leftover is removed, never followed; a folder where an output
  file goes is left alone and named in the error.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import shutil
import socket
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

from hzspatial.errors import InputError

__all__ = ["MANIFEST", "prepare_out_dir", "output_lock", "remove_tree", "staged_output"]

#: Lists the files hzspatial wrote into a folder; a folder with it may be written again.
MANIFEST = ".hzspatial-manifest.json"
LOCK = ".hzspatial.lock"
STAGE_PREFIX = ".hzspatial-partial-"
BACKUP_PREFIX = ".hzspatial-previous-"
JOURNAL = ".hzspatial-swap.json"
#: Files by which an output folder of hzspatial before manifests is recognised, and keys
#: that file must hold (a user's own summary.json with a "version" is not one).
_LEGACY = {"summary.json": ("version", "threshold_m", "categories", "network"),
           "review.json": ("version", "threshold_m", "proposals"),
           "batch.json": ("version", "scenarios")}  # fmt: skip
#: Every file name hzspatial writes into an output folder: the only names a manifest can
#: make it replace (a tampered manifest listing thesis.docx replaces nothing).
OUTPUT_NAMES = frozenset({
    "summary.json", "coverage_by_district.csv", "coverage_by_area.csv", "ratios.csv",
    "underserved.csv", "catchments.geojson", "underserved.geojson", "map.html", "map.png",
    "report.html", "report.pdf", "tables.xlsx", "run.log", "review.json", "review.html",
    "review.md", "sites.csv", "sites.geojson", "site.json", "curve.csv", "curve.png",
    "site_report.html", "batch.json", "comparison.csv", "comparison.xlsx", "study.json",
    "scenario.toml", "study_facilities.csv", "study_residents.geojson",
})  # fmt: skip
_held: dict[Path, int] = {}


def _ours(entry: str) -> bool:
    return entry in (MANIFEST, LOCK, JOURNAL) or entry.startswith((STAGE_PREFIX, BACKUP_PREFIX))


def _plain(name) -> bool:
    """A plain file name: text, no folder part, not ``.``/``..``, no NUL or control."""
    return (isinstance(name, str) and name not in ("", ".", "..") and "/" not in name
            and "\\" not in name and not any(ord(ch) < 32 for ch in name))  # fmt: skip


def _manifest(out: Path) -> list[str] | None:
    """Plain names listed by the folder's manifest (or a legacy summary), None if not
    hzspatial's. A manifest that is a link, or not a JSON object with a list of names, is
    not hzspatial's."""
    path = out / MANIFEST
    try:
        if not path.is_symlink():
            files = json.loads(path.read_text("utf-8"))["files"]
            if isinstance(files, list):
                return [n for n in files if _plain(n)]
    except (OSError, ValueError, KeyError, TypeError):
        pass
    for name, keys in _LEGACY.items():
        try:
            if (out / name).is_symlink():
                continue
            data = json.loads((out / name).read_text("utf-8"))
            if isinstance(data, dict) and all(k in data for k in keys):
                return [name]
        except (OSError, ValueError, TypeError):
            continue
    return None


def prepare_out_dir(out_dir: str | Path | None, *, overwrite: bool = False) -> Path:
    """Check an output folder before any work is done; return it as an absolute path.

    Raises
    ------
    InputError
        For an empty name, a file, a path under a file, a folder that cannot be written, or
        a non-empty folder that holds no previous hzspatial output (unless ``overwrite``).
    """
    if out_dir is None or not str(out_dir).strip():
        raise InputError("the output folder name is empty", column="--out",
                         hint="name a folder, e.g. --out results")  # fmt: skip
    text = str(out_dir)
    if any(ord(ch) < 32 for ch in text):
        raise InputError("the output folder name holds a control character (e.g. NUL)",
                         column="--out", hint="name a folder with plain characters")  # fmt: skip
    out = Path(text).expanduser().absolute()
    long = [part for part in out.parts if len(os.fsencode(part)) > 255]
    if long or len(os.fsencode(str(out))) > 4000:
        what = f"{long[0][:40]}…" if long else "the whole path"
        raise InputError(f"the output folder name is too long ({what}: a name may have at "
                         "most 255 bytes)", column="--out",
                         hint="choose a shorter folder name")  # fmt: skip
    if out.exists() and not out.is_dir():
        raise InputError("is a file, not a folder", file=str(out), column="--out",
                         hint="name a folder for the outputs")  # fmt: skip
    probe = out
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir():
        raise InputError(f"{probe} is a file, so no folder can be made under it",
                         file=str(out), column="--out", hint="name another folder")  # fmt: skip
    try:
        with tempfile.TemporaryFile(dir=probe):
            pass
    except OSError as exc:
        raise InputError(
            f"cannot write there ({exc.strerror or exc})",
            file=str(out),
            column="--out",
            hint="name a folder you can write to",
        ) from exc
    if out.is_dir() and not overwrite:
        foreign = [e.name for e in out.iterdir() if not _ours(e.name)]
        if foreign and _manifest(out) is None:
            raise InputError(
                f"the folder holds files hzspatial did not write ({', '.join(sorted(foreign)[:5])}"
                f"{' …' if len(foreign) > 5 else ''})",
                file=str(out),
                column="--out",
                hint="choose an empty or new folder, or pass --overwrite to write into it",
            )
    return out


def _pid(value) -> int:
    """A lock's pid as a number, or -1 (no such process) for anything else in the file."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**22:
        return -1
    return value


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError, ValueError):
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def output_lock(out: Path) -> Iterator[Path]:
    """Hold the folder's lock (re-entrant within a process); refuse when another running
    process holds it, take it over when its holder is gone, and clean up leftovers. A folder
    created here and still empty at the end is removed."""
    out = Path(out).absolute()
    if _held.get(out) == os.getpid():
        yield out
        return
    created = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    lock = out / LOCK
    me = {"pid": os.getpid(), "host": socket.gethostname()}
    for _ in range(2):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            try:
                other = json.loads(lock.read_text("utf-8"))
            except (OSError, ValueError):
                other = {}
            other = other if isinstance(other, dict) else {}
            if other.get("host") == me["host"] and not _alive(_pid(other.get("pid"))):
                lock.unlink(missing_ok=True)  # its holder is gone
                continue
            raise InputError(
                f"another hzspatial run (pid {other.get('pid', '?')} on "
                f"{other.get('host', '?')}) is writing to this folder",
                file=str(out), column="--out",
                hint=f"wait for it to finish, or delete {LOCK} if no run is going on",
            ) from None  # fmt: skip
        with os.fdopen(fd, "w") as f:
            json.dump(me, f)
        break
    _held[out] = os.getpid()
    try:
        _clean_leftovers(out)
        yield out
    finally:
        _held.pop(out, None)
        lock.unlink(missing_ok=True)
        if created:  # a folder made for a run that wrote nothing goes again
            with contextlib.suppress(OSError):
                out.rmdir()


def remove_tree(path: str | Path, *, wait_s: float = 5.0) -> bool:
    """Remove the folder ``path`` and everything in it, trying again while something (a
    browser helper being stopped, a drawing process) still writes into it, for up to
    ``wait_s`` seconds; True when it is gone. A link is removed, never followed."""
    path = Path(path)
    deadline = time.monotonic() + wait_s
    while True:
        if path.is_symlink() or (path.exists() and not path.is_dir()):
            path.unlink(missing_ok=True)
        else:
            shutil.rmtree(path, ignore_errors=True)
        if not os.path.lexists(path):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)


def _clean_leftovers(out: Path) -> None:
    """Undo what a killed run left: an interrupted swap is rolled back to the previous run's
    outputs (its journal says what moved); staging folders are removed; set-aside previous
    outputs are put back. Links named like leftovers are removed, never followed."""
    _roll_back(out)
    for entry in out.iterdir():
        if not entry.name.startswith((STAGE_PREFIX, BACKUP_PREFIX)):
            continue
        if entry.is_symlink() or not entry.is_dir():
            entry.unlink(missing_ok=True)  # not ours: a link or a file under our prefix
        elif entry.name.startswith(STAGE_PREFIX):
            shutil.rmtree(entry, ignore_errors=True)
        else:
            for item in entry.iterdir():
                if _plain(item.name) and not item.is_symlink() and not (out / item.name).exists():
                    item.replace(out / item.name)
            shutil.rmtree(entry, ignore_errors=True)


def _roll_back(out: Path) -> None:
    """After a swap killed midway: the new files it had moved in are removed and the previous
    ones moved back from the set-aside folder, the old manifest stays — one run's outputs."""
    journal = out / JOURNAL
    if journal.is_symlink():
        journal.unlink()
        return
    try:
        j = json.loads(journal.read_text("utf-8"))
        backup = out / str(j["backup"])
        new, old = list(j["new"]), list(j["old"])
    except (OSError, ValueError, KeyError, TypeError):
        journal.unlink(missing_ok=True)
        return
    if _plain(backup.name) and backup.name.startswith(BACKUP_PREFIX) and backup.is_dir() \
            and not backup.is_symlink():  # fmt: skip
        for name in new:
            target = out / name
            if _plain(name) and name in OUTPUT_NAMES and target.is_file() \
                    and not target.is_symlink() and not (backup / name).exists() \
                    and name not in old:  # fmt: skip
                target.unlink()
        for name in old:
            if _plain(name) and (backup / name).exists() and not (backup / name).is_symlink():
                if (out / name).is_file() or (out / name).is_symlink():
                    (out / name).unlink()
                if not (out / name).exists():
                    (backup / name).replace(out / name)
        shutil.rmtree(backup, ignore_errors=True)
    journal.unlink(missing_ok=True)


@contextlib.contextmanager
def staged_output(
    out_dir: str | Path, *, overwrite: bool = False, keep: Iterable[str] = ()
) -> Iterator[Path]:
    """Yield a staging folder; when the block succeeds, swap its contents into ``out_dir``.

    Parameters
    ----------
    out_dir : path
        The output folder (checked with :func:`prepare_out_dir`, locked while writing).
    overwrite : bool
        Write into a folder that holds files hzspatial did not write.
    keep : iterable of str
        Further names in the folder that this output owns (listed in the manifest but not
        replaced), e.g. a batch's scenario folders.

    Raises
    ------
    InputError
        When the swap fails: every previous output is restored and the message says which
        file could not be replaced.
    """
    out = prepare_out_dir(out_dir, overwrite=overwrite)
    with output_lock(out):
        stage = Path(tempfile.mkdtemp(prefix=STAGE_PREFIX, dir=out))
        try:
            yield stage
            _swap(out, stage, list(keep))
        finally:
            remove_tree(stage)


def _swap(out: Path, stage: Path, keep: list[str]) -> None:
    new = sorted(e.name for e in stage.iterdir())
    listed = [n for n in (_manifest(out) or []) if n in OUTPUT_NAMES]
    old = [n for n in dict.fromkeys([*listed, *new])
           if n not in keep and (out / n).exists()]  # fmt: skip
    for name in old:
        target = out / name
        if target.is_dir() and not target.is_symlink():
            raise InputError(
                f"a folder named {name} is where an output file goes; it is left as it is",
                file=str(out),
                hint="rename or move that folder, or choose another --out",
            )
    backup = Path(tempfile.mkdtemp(prefix=BACKUP_PREFIX, dir=out))
    journal = out / JOURNAL
    journal.write_text(json.dumps({"backup": backup.name, "old": old, "new": new}), "utf-8")
    moved_old: list[str] = []
    moved_new: list[str] = []
    current = ""
    try:
        for name in old:
            current = name
            (out / name).replace(backup / name)
            moved_old.append(name)
        for name in new:
            current = name
            (stage / name).replace(out / name)
            moved_new.append(name)
    except OSError as exc:
        for name in reversed(moved_new):
            with contextlib.suppress(OSError):
                (out / name).replace(stage / name)
        for name in reversed(moved_old):
            (backup / name).replace(out / name)
        shutil.rmtree(backup, ignore_errors=True)
        journal.unlink(missing_ok=True)
        raise InputError(
            f"could not replace {current} ({exc.strerror or exc}); the previous outputs are "
            "restored unchanged and no new output was written",
            file=str(out),
            hint="close the file if it is open (e.g. in Excel) and run again",
        ) from exc
    manifest = {"tool": "hzspatial", "files": sorted({*new, *keep}),
                "written": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")}  # fmt: skip
    tmp = out / f"{MANIFEST}.partial"
    tmp.write_text(json.dumps(manifest, ensure_ascii=False, indent=2), "utf-8")
    tmp.replace(out / MANIFEST)
    journal.unlink(missing_ok=True)  # from here the new run is the folder's
    shutil.rmtree(backup, ignore_errors=True)
