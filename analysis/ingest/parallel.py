"""Parse many fio summary files at once: local processes, or a Dask cluster for 10^5 files.

Each file is parsed by :func:`analysis.ingest.fio.read_records` (plain dicts, no pandas), so a
worker returns small picklable rows and the caller builds one table. The fan-out is
:func:`analysis.compute.map_ordered`: rows keep the order of the paths given, and the first bad
file (in that order) raises its one-sentence FioFormatError as a serial read would.
"""

from __future__ import annotations

from functools import partial

from analysis.compute import map_ordered

#: Below this many files per process a pool costs more to start than it saves.
MIN_FILES_PER_WORKER = 8


def read_records_many(paths: list, *, snapshots: bool = False, workers: int | None = None,
                      dask: str | None = None) -> list[dict]:
    """Rows of every summary file in ``paths``, in order (see :func:`analysis.compute.map_ordered`
    for ``workers`` and ``dask``)."""
    from analysis.ingest import fio, source

    if any(source.is_stream(p) for p in paths):
        # a stream (-, /dev/stdin, <(...)) is read once, by this process (analysis.ingest.source)
        workers, dask = 1, None
    read = partial(fio.read_records, snapshots=snapshots)
    chunks = map_ordered(read, [str(p) for p in paths], workers=workers, dask=dask,
                         min_items_per_worker=MIN_FILES_PER_WORKER)
    return [row for chunk in chunks for row in chunk]
