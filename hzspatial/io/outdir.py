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
* **Leftovers** of a killed run (staging and set-aside folders) are cleaned up — set-aside
  previous outputs restored — by the next run into the folder.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import shutil
import socket
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from hzspatial.errors import InputError

__all__ = ["MANIFEST", "prepare_out_dir", "output_lock", "staged_output"]

#: Lists the files hzspatial wrote into a folder; a folder with it may be written again.
MANIFEST = ".hzspatial-manifest.json"
LOCK = ".hzspatial.lock"
STAGE_PREFIX = ".hzspatial-partial-"
BACKUP_PREFIX = ".hzspatial-previous-"
#: Files by which an output folder of hzspatial before manifests is recognised.
_LEGACY = ("summary.json", "review.json", "batch.json")
_held: dict[Path, int] = {}


def _ours(entry: str) -> bool:
    return entry in (MANIFEST, LOCK) or entry.startswith((STAGE_PREFIX, BACKUP_PREFIX))


def _manifest(out: Path) -> list[str] | None:
    """Names listed by the folder's manifest (or a legacy summary), None if not hzspatial's."""
    try:
        return list(json.loads((out / MANIFEST).read_text("utf-8"))["files"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    for name in _LEGACY:
        try:
            if "version" in json.loads((out / name).read_text("utf-8")):
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
    out = Path(str(out_dir)).expanduser().absolute()
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


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
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
            if other.get("host") == me["host"] and not _alive(int(other.get("pid", -1))):
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


def _clean_leftovers(out: Path) -> None:
    """Remove a killed run's staging folders; put back previous outputs it had set aside."""
    for entry in out.iterdir():
        if entry.name.startswith(STAGE_PREFIX):
            shutil.rmtree(entry, ignore_errors=True)
        elif entry.name.startswith(BACKUP_PREFIX):
            for item in entry.iterdir():
                if not (out / item.name).exists():
                    item.replace(out / item.name)
            shutil.rmtree(entry, ignore_errors=True)


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
            shutil.rmtree(stage, ignore_errors=True)


def _swap(out: Path, stage: Path, keep: list[str]) -> None:
    new = sorted(e.name for e in stage.iterdir())
    old = [n for n in dict.fromkeys([*(_manifest(out) or []), *new])
           if n not in keep and (out / n).exists()]  # fmt: skip
    backup = Path(tempfile.mkdtemp(prefix=BACKUP_PREFIX, dir=out))
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
    shutil.rmtree(backup, ignore_errors=True)
