"""Reading a small input file safely: only a regular file, never more than a stated number of bytes.

A FIFO blocks ``open`` until a writer comes, ``/dev/zero`` never ends, and a sparse file can
claim gigabytes it does not hold; a reader that trusts the name hangs or fills memory. Here the
file is opened without blocking (``O_NONBLOCK``: open(2) on a FIFO then returns at once), checked
with fstat on the open descriptor (so a swap between check and read cannot fool it), and read up
to ``limit`` bytes. Used for the files that are not fio output: a fit's CSV table, an
experiment's ``manifest.csv`` and ``manifest.json``.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from analysis.text import shown

#: Largest CSV table ``pgrant-lab fit`` reads, in bytes (a table of a few million rows).
TABLE_MAX_BYTES = 256 * 1024 * 1024
#: Largest experiment ``manifest.csv`` or ``manifest.json``, in bytes (about 100,000 rows).
MANIFEST_MAX_BYTES = 16 * 1024 * 1024


class NotReadable(Exception):
    """The path cannot be read as a small regular file; ``str()`` is the 'found ...' part of a message."""


def kind(mode: int) -> str:
    """What a stat mode is, as a noun phrase for 'found ...': 'a folder', 'a FIFO (named pipe)', ..."""
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISREG(mode):
        return "a regular file"
    return "a special file"


def path_kind(path: Path) -> str:
    """What is at ``path`` (following symlinks): 'nothing', 'a broken symlink', or :func:`kind`."""
    try:
        return kind(os.stat(path).st_mode)
    except FileNotFoundError:
        return "a broken symlink" if os.path.islink(path) else "nothing"
    except NotADirectoryError:
        return "nothing (a parent is not a folder)"
    except OSError as err:
        return f"an unreadable path ({err.strerror})"
    except ValueError:  # os.stat refuses a NUL byte in a path
        return "nothing (a path with a NUL byte)"


def read_bytes(path: Path, *, limit: int) -> bytes:
    """The whole content of the regular file at ``path``; raises NotReadable when it is anything else,
    cannot be opened, or holds more than ``limit`` bytes (checked on size and on what is read)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise NotReadable(path_kind(path)) from None
    except IsADirectoryError:
        raise NotReadable("a folder") from None
    except OSError as err:
        raise NotReadable(f"a path that cannot be opened ({err.strerror})") from None
    except ValueError:
        raise NotReadable("nothing (a path with a NUL byte)") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise NotReadable(kind(info.st_mode))
        if info.st_size > limit:
            raise NotReadable(f"a file of {info.st_size} bytes, more than the {limit} this reader takes")
        os.set_blocking(fd, True)
        chunks, total = [], 0
        while True:
            chunk = os.read(fd, min(1 << 20, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:  # the file grew after fstat
                raise NotReadable(f"a file of more than {limit} bytes")
        return b"".join(chunks)
    except OSError as err:
        raise NotReadable(f"a file that cannot be read ({err.strerror})") from None
    finally:
        os.close(fd)


def read_text(path: Path, *, limit: int, encoding: str = "utf-8") -> str:
    """:func:`read_bytes` decoded; NotReadable when the bytes are not text in ``encoding``."""
    data = read_bytes(path, limit=limit)
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as err:
        raise NotReadable(f"bytes that are not {encoding} text (byte {err.start})") from None


def describe(path: Path) -> str:
    """A path for a message: quoted with control characters visible when it holds any."""
    text = str(path)
    return text if text.isprintable() else shown(text)
