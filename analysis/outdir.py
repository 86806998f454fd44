"""The one guard for every folder or file a command writes (``report --out``, ``kit --out``,
``ingest --out``, the collectors' data folders).

Rule ("nothing lost"): a command writes only

- into a folder that does not exist yet (or is empty), or one that an earlier run of the *same*
  command made, recognised by the marker file :data:`MARKER` it left there, which lists every file
  it wrote with its SHA-256; a file in the folder that the marker does not list (a user's notes),
  or one whose content changed since (a user's edit), makes the folder someone else's;
- never into ``data/raw`` (raw data is only read; only the collectors pass ``allow_raw``), the
  repository's ``notebooks/`` or the repository itself, never into or around an input (a folder
  holding an input would be replaced with it), never through a path whose parent is not a folder.

A folder is written whole: :func:`staging` makes a scratch folder beside the target and removes it
on any failure or interrupt; :func:`publish` swaps it into place with one atomic rename
(``renameat2(RENAME_EXCHANGE)`` when a previous version exists, so there is no moment without
one), then deletes the previous version. :func:`lock` keeps two runs from writing one target at once.
A single file is written by :func:`write_file`: to a temporary file in the same folder, then
``os.replace`` (which replaces a hard link or symlink by a new file: the old inode, maybe an input,
is never written).
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import stat
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from analysis import safeio
from analysis.paths import NOTEBOOKS_DIR, RAW_DATA_DIR, REPO_ROOT
from analysis.errors import UsageError
from analysis.text import shown

if TYPE_CHECKING:  # annotations only: `pgrant-lab ingest` imports this module on every run
    from collections.abc import Callable, Iterable, Iterator

MARKER = ".pgrant-lab-output.json"
_MARKER_MAX_BYTES = 4 * 1024 * 1024


def _p(path: Path) -> str:
    return safeio.describe(path)


def _resolved(path: Path) -> Path:
    return Path(os.path.realpath(Path(path).expanduser()))


def _existing_ancestor(path: Path, option: str, shown_path: Path) -> Path:
    """The nearest existing ancestor of ``path``; UsageError when it (or the path) is not a folder."""
    for parent in [path, *path.parents]:
        kind = safeio.path_kind(parent)
        if kind.startswith("nothing"):
            continue
        if parent != path and kind != "a folder":
            raise UsageError(f"{option} {_p(shown_path)}: expected a path under a folder, found {_p(parent)} is "
                             f"{kind}")
        return parent
    return Path("/")


def _forbidden(real: Path, option: str, shown_path: Path, *, allow_raw: bool, inputs: Iterable[Path]) -> None:
    if not allow_raw and (real == RAW_DATA_DIR or RAW_DATA_DIR in real.parents):
        raise UsageError(f"{option} {_p(shown_path)}: expected a place outside {RAW_DATA_DIR} (raw data is only "
                         "read), found one inside it")
    if real == NOTEBOOKS_DIR or NOTEBOOKS_DIR in real.parents:
        raise UsageError(f"{option} {_p(shown_path)}: expected a place outside {NOTEBOOKS_DIR} (the committed "
                         "notebooks), found one inside it")
    if real == REPO_ROOT or real in REPO_ROOT.parents:
        raise UsageError(f"{option} {_p(shown_path)}: expected a folder of its own, found the repository "
                         f"{REPO_ROOT} or a folder holding it")
    for item in inputs:
        source = _resolved(item)
        if real == source or source in real.parents or real in source.parents:
            raise UsageError(f"{option} {_p(shown_path)}: expected a folder outside the input {_p(item)} (an "
                             "input is never written or replaced), found one inside it or holding it")


def _sha256(path: Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _files(folder: Path, keep: Iterable[str] = (), most: int | None = None) -> list[str]:
    """Every file (and symlink to a folder) under folder as relative paths, except MARKER and keep/;
    only the first ``most`` found when given (a home folder holds millions)."""
    keep = tuple(keep)
    found = []
    for root, dirs, names in os.walk(folder):
        if most is not None and len(found) >= most:
            return sorted(found)[:most]
        rel_root = Path(root).relative_to(folder)
        if rel_root.parts and rel_root.parts[0] in keep:
            continue
        for name in names:
            rel = str(rel_root / name)
            if rel != MARKER and not (rel_root == Path(".") and name in keep):
                found.append(rel)
        for name in list(dirs):
            full = Path(root) / name
            if full.is_symlink():
                found.append(str(rel_root / name))
    return sorted(found)


def read_marker(folder: Path) -> dict | None:
    """The marker an earlier run left in folder, or None when there is none (or it is not ours)."""
    path = Path(folder) / MARKER
    try:
        data = json.loads(safeio.read_text(path, limit=_MARKER_MAX_BYTES))
    except (safeio.NotReadable, ValueError, RecursionError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("files"), dict) or "command" not in data:
        return None
    return data


def write_marker(folder: Path, *, command: str, keep: Iterable[str] = ()) -> Path:
    """Record in folder that ``command`` wrote every file now in it (but ``keep/``), with hashes."""
    folder = Path(folder)
    files = {rel: _sha256(folder / rel) for rel in _files(folder, keep) if (folder / rel).is_file()}
    path = folder / MARKER
    path.write_text(json.dumps({"written_by": "pgrant-lab", "command": command, "keep": list(keep),
                                "files": files}, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path


def claim(out: Path, *, command: str, option: str = "--out", inputs: Iterable[Path] = (),
          allow_raw: bool = False, keep: Iterable[str] = (), force: bool = False,
          recognise: Callable[[Path], bool] | None = None) -> Path:
    """Check that ``command`` may (re)write the folder ``out``; returns its resolved path.

    Raises UsageError (naming the option and what was found) when the folder is forbidden (see the
    module docstring), is not a folder, or holds anything an earlier run of ``command`` did not
    write. ``keep`` names top-level entries that belong to the folder's user and are left alone
    (the kit's ``results/``). ``force`` accepts files the earlier run wrote but someone changed
    since; files it never wrote are refused even then. ``recognise`` identifies output of the
    same command written before markers existed (the bundled data folders).
    """
    out = Path(out)
    real = _resolved(out)
    _forbidden(real, option, out, allow_raw=allow_raw, inputs=inputs)
    _existing_ancestor(real, option, out)
    kind = safeio.path_kind(real)
    if kind.startswith("nothing"):
        return real
    if kind != "a folder":
        raise UsageError(f"{option} {_p(out)}: expected a folder (new, empty, or an earlier {command} output), "
                         f"found {kind}")
    marker = read_marker(real)
    present = _files(real, keep, most=None if marker is not None else 3)
    if not present:
        return real
    if marker is None:
        if recognise is not None and recognise(real):
            return real
        raise UsageError(f"{option} {_p(out)}: expected a new or empty folder, or an earlier {command} output "
                         f"(with {MARKER}), found a folder holding other files ({_listing(present)}{', ...' if len(present) >= 3 else ''}); choose "
                         "another folder, nothing was changed")
    if marker.get("command") != command:
        raise UsageError(f"{option} {_p(out)}: expected an earlier {command} output, found the output of "
                         f"{shown(marker.get('command'))}; choose another folder, nothing was changed")
    listed = marker["files"]
    foreign = [rel for rel in present if rel not in listed]
    if foreign:
        raise UsageError(f"{option} {_p(out)}: expected only the files an earlier {command} wrote, found others "
                         f"({_listing(foreign)}); move them or choose another folder, nothing was changed")
    edited = [rel for rel in present if (real / rel).is_file() and _sha256(real / rel) != listed[rel]]
    if edited and not force:
        raise UsageError(f"{option} {_p(out)}: expected the files an earlier {command} wrote unchanged, found "
                         f"edits in {_listing(edited)}; keep a copy and re-run with --force, or choose another "
                         "folder, nothing was changed")
    return real


def _listing(names: list[str], most: int = 3) -> str:
    head = ", ".join(shown(n) for n in names[:most])
    return head + (f" and {len(names) - most} more" if len(names) > most else "")


@contextmanager
def staging(real_out: Path, *, option: str = "--out") -> Iterator[Path]:
    """A scratch folder beside ``real_out`` (same file system, so publish can rename it); removed
    when the block raises or is interrupted, and after publish."""
    import shutil
    import tempfile

    parent = real_out.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix=f".{real_out.name}.partial-", dir=parent))
    except OSError as err:
        raise UsageError(f"{option} {_p(real_out)}: expected a folder we can write in, found {_p(parent)} "
                         f"refusing it ({err.strerror})") from None
    try:
        yield scratch
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


_RENAME_EXCHANGE = 2  # linux/fs.h


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux renameat2 RENAME_EXCHANGE); False when not supported."""
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd = -100
    result = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE)
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(b))


def publish(scratch: Path, real_out: Path) -> None:
    """Put the finished scratch folder at real_out, replacing what an earlier run left there whole."""
    import shutil
    import tempfile

    os.chmod(scratch, 0o777 & ~_umask())  # mkdtemp made it private; a report is an ordinary folder
    if real_out.is_dir() and any(real_out.iterdir()):
        if _exchange(scratch, real_out):
            shutil.rmtree(scratch)  # now holds the previous version
            scratch.mkdir()  # staging removes it
            return
        previous = Path(tempfile.mkdtemp(prefix=f".{real_out.name}.previous-", dir=real_out.parent))
        os.rename(real_out, previous / "old")
        os.rename(scratch, real_out)
        shutil.rmtree(previous)
        scratch.mkdir()
        return
    if real_out.is_dir():
        real_out.rmdir()
    os.rename(scratch, real_out)
    scratch.mkdir()


@contextmanager
def lock(real_out: Path, *, command: str, option: str = "--out") -> Iterator[None]:
    """Hold an exclusive lock for writing real_out (fcntl.flock on ``.NAME.lock`` beside it);
    UsageError at once when another run holds it. The lock file is removed on release."""
    path = real_out.parent / f".{real_out.name}.lock"
    try:
        real_out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UsageError(f"{option} {_p(real_out)}: expected a folder we can write in, found {_p(real_out.parent)} "
                         f"refusing it ({err.strerror})") from None
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
        except OSError as err:
            raise UsageError(f"{option} {_p(real_out)}: expected a folder we can write in, found "
                             f"{_p(real_out.parent)} refusing it ({err.strerror})") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise UsageError(f"{option} {_p(real_out)}: expected no other {command} writing this folder, found "
                             f"one running (it holds {_p(path)}); wait for it or choose another folder") from None
        # The holder before us may have removed the file after we opened it: lock the one on disk.
        try:
            same = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    try:
        yield
    finally:
        try:
            os.unlink(path)
        finally:
            os.close(fd)


def check_file(out: Path, *, option: str = "--out", inputs: Iterable[Path] = (), suffix: str = ".csv") -> Path:
    """Check a single output file: not an input (by inode too: a hard link is the same file), not in
    data/raw or notebooks/, under a folder; an existing file only when it is a regular ``suffix``
    file (a table an earlier run wrote). Returns the path to write (unresolved: os.replace then
    replaces a symlink itself, never its target)."""
    out = Path(out)
    real = _resolved(out)
    _forbidden(real, option, out, allow_raw=False, inputs=())
    parent = out.parent if str(out.parent) else Path(".")
    parent_kind = safeio.path_kind(parent)
    if parent_kind != "a folder":
        found = f"no folder {_p(parent)}" if parent_kind.startswith("nothing") else f"{_p(parent)} is {parent_kind}"
        raise UsageError(f"{option} {_p(out)}: expected a {suffix.lstrip('.').upper()} file in an existing folder, "
                         f"found {found}")
    try:
        info = os.stat(out)
    except FileNotFoundError:
        info = None
    except OSError as err:
        raise UsageError(f"{option} {_p(out)}: expected a new file name, found a path we cannot look at "
                         f"({err.strerror})") from None
    for item in inputs:
        try:
            source = os.stat(item)
        except OSError:
            continue
        if real == _resolved(item):
            raise UsageError(f"{option} {_p(out)}: expected a new {suffix.lstrip('.').upper()} file, found one of the "
                             "FILEs being read (fio output is never overwritten)")
        if info is not None and (info.st_dev, info.st_ino) == (source.st_dev, source.st_ino):
            raise UsageError(f"{option} {_p(out)}: expected a new {suffix.lstrip('.').upper()} file, found a hard "
                             f"link to {_p(item)}, one of the FILEs being read (fio output is never overwritten)")
    if info is not None:
        if not stat.S_ISREG(info.st_mode):
            raise UsageError(f"{option} {_p(out)}: expected a new {suffix} file name, found {safeio.kind(info.st_mode)}")
        if out.suffix.lower() != suffix or os.path.islink(out):
            raise UsageError(f"{option} {_p(out)}: expected a new file or an earlier {suffix} table to replace, "
                             f"found an existing {'symlink' if os.path.islink(out) else 'file'} that is not one; "
                             "choose another name")
    return out


def write_file(out: Path, write: Callable[[Path], None], *, option: str = "--out") -> None:
    """Call ``write(tmp)`` on a temporary file beside ``out``, then rename it to ``out`` (whole or not at all)."""
    import tempfile

    out = Path(out)
    parent = out.parent if str(out.parent) else Path(".")
    try:
        fd, name = tempfile.mkstemp(prefix=f".{out.name}.partial-", dir=parent)
    except OSError as err:
        raise UsageError(f"{option} {_p(out)}: expected a folder we can write in, found {_p(parent)} refusing it "
                         f"({err.strerror})") from None
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        os.chmod(tmp, 0o644 & ~_umask())
        os.replace(tmp, out)
    except OSError as err:
        raise UsageError(f"{option} {_p(out)}: expected to write the file, found an error ({err.strerror})") from None
    finally:
        tmp.unlink(missing_ok=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
