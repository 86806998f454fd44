"""Read the bytes of one fio output input: a regular file, or a stream read once.

Every reader of fio output (:mod:`analysis.ingest.fio`, :mod:`analysis.ingest.fiolog`) takes its
input from here, so that what the issue tracker calls "hostile input" is handled in one place:

- a path that is not a regular file (a named FIFO, ``/dev/zero``, a socket, a folder) is refused
  with one sentence saying what it is: a FIFO would block ``open`` until a writer comes and a
  device never ends (opened with ``O_NONBLOCK``, checked with fstat on the open descriptor,
  :mod:`analysis.safeio`);
- a *stream* the shell opened for us is read once and kept for this process: ``-`` (standard
  input), ``/dev/stdin``, ``/dev/fd/N`` and ``/proc/self/fd/N`` (what ``<(cat f.json)`` gives);
  detecting a format and parsing then read the same bytes, so a pipe is not read twice;
- what is read is capped (:data:`FIO_MAX_BYTES`) and a NUL byte ends the read at once: fio's text
  output (JSON, terse, logs) never holds one, while ``/dev/zero`` or a sparse file starting with
  ``{`` holds nothing else, so either is refused after its first chunk instead of filling memory.
"""

from __future__ import annotations

import os
import re
import stat
import sys
from pathlib import Path

from analysis import safeio
from analysis.errors import FioFormatError

#: Largest fio output file (or stream) read, in bytes. fio's JSON report of one run is a few MB
#: (json+ with every latency bin of hundreds of jobs: tens of MB); a 1 GiB cap leaves room for
#: status-interval files of many snapshots while bounding what a file that is not fio output costs.
FIO_MAX_BYTES = 1 << 30
#: Bytes read to tell a file's format.
SNIFF_BYTES = 1 << 16
_CHUNK = 1 << 20

# Streams: standard input and descriptors the shell opened (process substitution <(...)).
_STREAM = re.compile(r"^(?:-|/dev/stdin|/dev/fd/\d+|/proc/(?:self|\d+)/fd/\d+)$")
_streams: dict[str, bytes] = {}


class InputError(FioFormatError):
    """An input that cannot be read as fio output; ``found`` is what it is instead (for readers
    that word their messages their own way, e.g. :mod:`analysis.ingest.fiolog`)."""

    def __init__(self, message: str, found: str):
        super().__init__(message)
        self.found = found


def _refuse(where: str, expected: str, found: str) -> InputError:
    return InputError(f"{where}: expected {expected}, found {found}", found)


def is_stream(path) -> bool:
    """Whether ``path`` names a stream read once (``-``, ``/dev/stdin``, ``/dev/fd/N``)."""
    return bool(_STREAM.match(str(path)))


def read_bytes(path, *, limit: int = FIO_MAX_BYTES) -> bytes:
    """Every byte of ``path`` (a regular file, or a stream read once and kept); FioFormatError
    naming the path when it is anything else, holds a NUL byte or more than ``limit`` bytes."""
    key = str(path)
    if is_stream(key):
        if key not in _streams:
            _streams[key] = _read_stream(key, limit)
        return _streams[key]
    fd = _open_regular(Path(path))
    try:
        size = os.fstat(fd).st_size
        if size > limit:
            raise _refuse(safeio.describe(Path(path)), f"fio output of at most {limit} bytes",
                          f"a file of {size} bytes")
        return _read_fd(fd, key, limit)
    finally:
        os.close(fd)


def head(path, size: int = SNIFF_BYTES) -> bytes:
    """The first ``size`` bytes of ``path`` (of a stream: of its bytes, read once), for sniffing."""
    if is_stream(path):
        return read_bytes(path)[:size]
    fd = _open_regular(Path(path))
    try:
        return _read_fd(fd, str(path), size, stop_at_limit=True)
    finally:
        os.close(fd)


def open_binary(path):
    """A binary file object of ``path`` for a streaming parser (pandas' CSV reader): the kept
    bytes of a stream, else the regular file (not capped: a per-I/O log may be gigabytes)."""
    import io

    if is_stream(path):
        return io.BytesIO(read_bytes(path))
    fd = _open_regular(Path(path))
    os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


def _open_regular(path: Path) -> int:
    where = safeio.describe(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        found = safeio.path_kind(path)
        raise _refuse(where, "a fio output file", "no such file" if found == "nothing" else found) from None
    except IsADirectoryError:
        raise _refuse(where, "a fio output file", "a folder") from None
    except (OSError, ValueError) as err:
        found = f"a path that cannot be opened ({err.strerror})" if isinstance(err, OSError) else "a path with a NUL byte"
        raise _refuse(where, "a readable fio output file", found) from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise _refuse(where, "a fio output file (a regular file, or - for standard input)", safeio.kind(mode))
    os.set_blocking(fd, True)
    return fd


def _read_stream(key: str, limit: int) -> bytes:
    if key == "-":
        return _read_fd(sys.stdin.buffer.fileno(), "-", limit)
    try:
        fd = os.open(key, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except OSError as err:
        raise _refuse(key, "a readable stream of fio output", err.strerror) from None
    try:
        return _read_fd(fd, key, limit)
    finally:
        os.close(fd)


def _read_fd(fd: int, where: str, limit: int, stop_at_limit: bool = False) -> bytes:
    """Read ``fd`` to its end (or ``limit`` bytes with ``stop_at_limit``), refusing a NUL byte."""
    chunks, total = [], 0
    while True:
        try:
            chunk = os.read(fd, min(_CHUNK, limit + 1 - total))
        except OSError as err:
            raise _refuse(where, "readable fio output", f"a read error ({err.strerror})") from None
        if not chunk:
            break
        nul = chunk.find(b"\0")
        if nul >= 0:
            raise _refuse(where, "fio text output (json, terse or a log)",
                          f"a NUL byte at byte {total + nul} (binary data, e.g. /dev/zero or a sparse file)")
        chunks.append(chunk)
        total += len(chunk)
        if total > limit:
            if stop_at_limit:
                return b"".join(chunks)[:limit]
            raise _refuse(where, f"fio output of at most {limit} bytes", "more")
    return b"".join(chunks)
