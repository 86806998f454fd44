"""A user's experiment folder: ``manifest.csv`` naming fio output files and the conditions of each.

Layout (documented with an example in README.md, "Your own experiment")::

    my-experiment/
      manifest.csv          one row per fio output file
      results/...json       fio output in any format analysis.ingest.fio reads (client/server JSON: one
                            file holds every guest of a run)

``manifest.csv`` has a ``file`` column (path relative to the folder) and condition columns. The
reserved names are checked: ``mode`` (persistent | non-persistent), ``guests``, ``dom0_vcpus``,
``run`` (positive integers), ``ring_order`` (0..MAX_RING_PAGE_ORDER), ``bs`` (a fio size such as
4k). A ``guest`` column names the guest when each guest wrote its own file. Any other column is
kept as a condition. Rows with equal conditions are the same run, so repeated runs need ``run``.

``load(folder)`` validates all of it, collecting every problem before raising one ManifestError
(one line per problem), ingests the files and returns the tidy fio table joined with the
conditions. ``aggregate(table)`` gives one row per run: IOPS and bandwidth summed over its guests
(the y axis of the 2012 thread's "650,000 IOPS in total") and the spread between guests.
Nothing in the folder is ever written.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import pandas as pd

from analysis import constants, safeio, text
from analysis.errors import FioFormatError, ManifestError

MANIFEST = "manifest.csv"
#: The two modes an experiment compares (the manifest's ``mode`` column).
MODES = ("persistent", "non-persistent")
RESERVED = ("mode", "guests", "dom0_vcpus", "bs", "ring_order", "run")
GUEST_COLUMN = "guest"
_POSITIVE_INT = ("guests", "dom0_vcpus", "run")
# Fio-table columns that a manifest condition of the same name replaces; fio's value is kept as fio_<name>.
_FIO_PREFIX = "fio_"


# Largest fio size (bs= or size=) manifests and the kit take: 1 PiB, far above any request or test
# region, and it keeps every size and sum of sizes within int64 (pandas' integer type).
MAX_SIZE_BYTES = 2**50


def bs_bytes(text: str) -> int:
    """A block size ("4k", "64K", "1m", "4096", "64KiB") in bytes; ValueError if it is not one (or 0),
    holds a digit that is not ASCII (int() takes fullwidth digits, fio does not) or exceeds MAX_SIZE_BYTES."""
    from analysis.ingest import fio  # lazily, as below: reading a manifest needs no pandas-heavy parser

    if not str(text).isascii():
        raise ValueError(f"not a block size: {text!r}")
    value = fio.size_bytes(text)
    if not value:
        raise ValueError(f"not a block size: {text!r}")
    if value > MAX_SIZE_BYTES:
        raise ValueError(f"block size {text!r} is more than {MAX_SIZE_BYTES} bytes")
    return value


def load(folder: Path, *, progress: bool | None = None) -> pd.DataFrame:
    """The tidy table of every fio file in the experiment, one row per fio row, plus the conditions.

    Columns: the manifest's (``file`` and every condition), ``bs_bytes`` when ``bs`` is a
    condition, then analysis.ingest.fio's tidy columns (a fio column whose name is also a condition is
    renamed ``fio_<name>``). ``table.attrs["conditions"]`` lists the condition columns and
    ``table.attrs["folder"]`` the folder. Raises ManifestError listing every problem found.
    """
    folder = Path(folder)
    manifest = _read_manifest(folder)
    frames = _ingest(folder, manifest, progress=progress)
    conditions = [c for c in manifest.columns if c not in ("file", "manifest_line", "bs_bytes")]
    table = _join(manifest, frames, conditions)
    problems = _guest_count_problems(folder, table, conditions)
    if problems:
        raise ManifestError("\n".join(problems))
    table.attrs["conditions"] = conditions
    table.attrs["folder"] = str(folder)
    return table


@dataclass(frozen=True)
class Provenance:
    """Where an experiment came from: its folder and the ``title`` and ``what`` (how it was
    measured) of its optional manifest.json (None when absent or unreadable)."""

    folder: Path
    title: str | None = None
    what: str | None = None

    @property
    def label(self) -> str:
        """A short line for figure titles: the folder's name and the manifest.json title if any."""
        if self.title:
            return f"{self.folder.name} ({self.title})"
        return f"your experiment {self.folder.name}"


def provenance(folder: Path) -> Provenance:
    """The experiment's manifest.json ``title`` and ``what``; both None without a readable one."""
    folder = Path(folder)
    path = folder / "manifest.json"
    try:
        # only a regular file inside the folder (a symlink out of it is ignored), at most MANIFEST_MAX_BYTES
        if folder.resolve() not in path.resolve().parents:
            return Provenance(folder)
        facts = json.loads(safeio.read_text(path, limit=safeio.MANIFEST_MAX_BYTES))
        title, what = facts.get("title"), facts.get("what")
        return Provenance(folder, title if isinstance(title, str) else None, what if isinstance(what, str) else None)
    except (OSError, ValueError, AttributeError, RecursionError, safeio.NotReadable):
        return Provenance(folder)


def save_table(table: pd.DataFrame, path: Path) -> Path:
    """Cache ``load``'s table (with its ``attrs``) as a pickle at ``path``, for ``read_table``.

    ``pgrant-lab report --data`` parses the experiment once and hands this file to the notebooks;
    ``path`` lies in the report's scratch folder, never in the experiment folder.
    """
    path = Path(path)
    table.to_pickle(path)
    return path


def read_table(path: Path) -> pd.DataFrame:
    """The table ``save_table`` wrote (conditions and folder in ``attrs``, as ``load`` returns)."""
    table = pd.read_pickle(Path(path))
    if not isinstance(table, pd.DataFrame) or "conditions" not in table.attrs:
        raise ManifestError(f"{path}: expected an experiment table written by save_table, found {type(table).__name__}")
    return table


def validate(folder: Path) -> pd.DataFrame:
    """Check manifest.csv without reading the fio files; returns the manifest (ManifestError if bad)."""
    return _read_manifest(Path(folder))


def run_key(conditions: list[str]) -> list[str]:
    """The columns that identify one run: every condition but the per-guest ``guest`` column."""
    return [c for c in conditions if c != GUEST_COLUMN]


def aggregate(table: pd.DataFrame, conditions: list[str] | None = None) -> pd.DataFrame:
    """One row per run: totals over its guests and the spread between them.

    fio's "All clients" rows (``is_aggregate``) are left out so nothing counts twice. A guest is
    one (file, hostname, port): a fio server in client/server output, or a file otherwise; its
    IOPS and bandwidth are summed over its jobs and directions. Columns: the run's conditions,
    ``iops`` and ``bw_bytes_s`` (totals), ``guests_measured``, ``iops_per_guest_mean``,
    ``iops_per_guest_min``, ``iops_per_guest_max``, ``iops_per_guest_cv`` (std/mean, 0 for one guest).
    """
    conditions = list(conditions if conditions is not None else table.attrs.get("conditions", []))
    key = run_key(conditions)
    rows = table.loc[~table["is_aggregate"].astype(bool)]
    guest_id = ["file", "hostname", "port"]
    per_guest = (
        rows.groupby(key + guest_id, dropna=False, sort=False)[["iops", "bw_bytes_s"]].sum().reset_index()
    )
    # A manifest with no condition (only a file column) is one run of every file's guests.
    runs = per_guest.groupby(key or (lambda _: 0), dropna=False, sort=True)
    out = runs.agg(
        iops=("iops", "sum"),
        bw_bytes_s=("bw_bytes_s", "sum"),
        guests_measured=("iops", "size"),
        iops_per_guest_mean=("iops", "mean"),
        iops_per_guest_min=("iops", "min"),
        iops_per_guest_max=("iops", "max"),
        iops_per_guest_std=("iops", lambda s: s.std(ddof=0)),
    ).reset_index()
    out["iops_per_guest_cv"] = out["iops_per_guest_std"] / out["iops_per_guest_mean"]
    out = out.drop(columns="iops_per_guest_std")
    return out if key else out.drop(columns="index", errors="ignore")


def spread(runs: pd.DataFrame) -> pd.DataFrame:
    """``aggregate``'s runs summarised over repeats: one row per condition set (all but ``run``).

    Columns: the conditions, ``runs``, ``iops_mean`` and ``iops_std`` (total IOPS over repeats;
    std NaN for one run), ``iops_per_guest_min``/``_max`` (slowest and fastest guest of any repeat),
    ``iops_per_guest_cv_mean`` (mean over repeats of the guests' coefficient of variation).
    """
    measured = {"iops", "bw_bytes_s", "guests_measured", "iops_per_guest_mean", "iops_per_guest_min",
                "iops_per_guest_max", "iops_per_guest_cv", "run"}
    key = [c for c in runs.columns if c not in measured]
    return runs.groupby(key or (lambda _: 0), dropna=False, sort=True, as_index=bool(key)).agg(
        runs=("iops", "size"),
        iops_mean=("iops", "mean"),
        iops_std=("iops", "std"),
        iops_per_guest_min=("iops_per_guest_min", "min"),
        iops_per_guest_max=("iops_per_guest_max", "max"),
        iops_per_guest_cv_mean=("iops_per_guest_cv", "mean"),
    ).reset_index()


def per_guest(table: pd.DataFrame, conditions: list[str] | None = None) -> pd.DataFrame:
    """One row per guest per run: the run's conditions, ``guest_label`` and its summed ``iops``."""
    conditions = list(conditions if conditions is not None else table.attrs.get("conditions", []))
    key = run_key(conditions)
    rows = table.loc[~table["is_aggregate"].astype(bool)].copy()
    rows["guest_label"] = rows["hostname"].fillna(rows["file"]).astype(str)
    return rows.groupby(key + ["guest_label"], dropna=False)[["iops", "bw_bytes_s"]].sum().reset_index()


def missing_modes(table: pd.DataFrame) -> list[str]:
    """The modes (persistent, non-persistent) with no run in the table, or all if there is no mode column."""
    present = set(table["mode"].dropna()) if "mode" in table.columns else set()
    return [m for m in MODES if m not in present]


# ---- manifest validation -------------------------------------------------------------------


def _read_manifest(folder: Path) -> pd.DataFrame:
    """Parse and check manifest.csv; every problem becomes one line of one ManifestError."""
    if not folder.is_dir():
        found = safeio.path_kind(folder)
        raise ManifestError(f"{safeio.describe(folder)}: expected an experiment folder holding {MANIFEST}, found "
                            f"{'a file' if found == 'a regular file' else found}")
    path = folder / MANIFEST
    where = safeio.describe(path)
    if path.exists() and folder.resolve() not in path.resolve().parents:
        raise ManifestError(f"{where}: expected a manifest inside the experiment folder, found a symlink to a "
                            "path outside it (an experiment folder is read only within itself)")
    try:
        content = safeio.read_text(path, limit=safeio.MANIFEST_MAX_BYTES, encoding="utf-8-sig")
    except safeio.NotReadable as err:
        found = "no such file" if str(err) == "nothing" else str(err)
        raise ManifestError(f"{where}: expected a manifest (a CSV file, one row per fio output file, columns "
                            f"file,mode,guests,...), found {found}") from None
    try:
        lines = list(csv.reader(io.StringIO(content, newline="")))
    except csv.Error as err:
        raise ManifestError(f"{where}: expected a readable CSV file, found {err}") from None
    lines = [(n, row) for n, row in enumerate(lines, start=1) if any(cell.strip() for cell in row)]
    if not lines:
        raise ManifestError(f"{where}: expected a header line starting with 'file', found an empty file")
    header_line, header = lines[0]
    header = [h.strip() for h in header]
    if "file" not in header:
        # Not a manifest: say what is wrong without echoing what the file holds.
        raise ManifestError(f"{where} line {header_line}: expected a CSV header with a column named 'file', "
                            f"found a first line of {len(header)} field(s), none named 'file'")
    problems = _header_problems(path, header_line, header)
    if problems:
        raise ManifestError("\n".join(problems))
    if len(lines) == 1:
        raise ManifestError(f"{path}: expected one row per fio output file after the header, found none")
    records, problems = [], []
    seen_files: dict[str, int] = {}
    seen_conditions: dict[tuple, int] = {}
    for line, cells in lines[1:]:
        if len(cells) != len(header):
            problems.append(f"{path} line {line}: expected {len(header)} comma-separated fields "
                            f"({safeio.describe(','.join(header))}), found {len(cells)}")
            continue
        record = {h: c.strip() for h, c in zip(header, cells)}
        problems += _row_problems(folder, path, line, record)
        # One file is one file however it is named: a symlink or ./ alias is not a second run.
        name = _normalised(record["file"])
        if record["file"] and not _file_problems(folder, "", record["file"]):
            name = str((folder / name).resolve())
        if name in seen_files:
            problems.append(f"{path} line {line}, column file: expected each file once, found "
                            f"{record['file']!r} again (first on line {seen_files[name]})")
        seen_files.setdefault(name, line)
        conditions = tuple(v for k, v in record.items() if k != "file")
        if header[1:] and conditions in seen_conditions:
            problems.append(f"{path} line {line}: expected each run's conditions once, found the same "
                            f"conditions as line {seen_conditions[conditions]}; add a 'run' column for "
                            f"repeats (or '{GUEST_COLUMN}' when each guest wrote its own file)")
        seen_conditions.setdefault(conditions, line)
        record["manifest_line"] = line
        records.append(record)
    if problems:
        raise ManifestError("\n".join(problems))
    return _typed(pd.DataFrame.from_records(records, columns=header + ["manifest_line"]))


def _header_problems(path: Path, line: int, header: list[str]) -> list[str]:
    problems = []
    if "file" not in header:
        problems.append(f"{path} line {line}: expected a column named 'file', found columns {header}")
    blank = [i + 1 for i, h in enumerate(header) if not h]
    # (a header without 'file' is refused before this, without echoing it)
    if blank:
        problems.append(f"{path} line {line}: expected a name for every column, found empty names in columns {blank}")
    taken = [h for h in header if h in _measured_columns()]
    if taken:
        problems.append(f"{path} line {line}: expected condition names other than the measured columns of "
                        f"analysis.ingest.fio's table, found {taken}; rename them")
    dupes = sorted({h for h in header if h and header.count(h) > 1})
    if dupes:
        problems.append(f"{path} line {line}: expected each column name once, found {dupes} more than once")
    return problems


def _measured_columns() -> set[str]:
    """Columns of the tidy fio table that a condition may not replace (fio's job options may)."""
    from analysis.ingest import fio

    options = {"rw", "bs", "bs_bytes", "iodepth", "numjobs", "ioengine", "fio_version"}
    return (set(fio.COLUMNS) - options) | {"manifest_line"}


def _row_problems(folder: Path, path: Path, line: int, record: dict) -> list[str]:
    """Everything wrong with one manifest row, one sentence each."""
    where = f"{path} line {line}"
    problems = []
    problems += _file_problems(folder, where, record["file"])
    if "mode" in record and record["mode"] not in MODES:
        problems.append(f"{where}, column mode: expected one of {', '.join(MODES)}, found {record['mode']!r}")
    for column in _POSITIVE_INT:
        if column in record and not _is_int(record[column], low=1):
            problems.append(f"{where}, column {column}: expected a positive integer, found {record[column]!r}")
    if "ring_order" in record and not _is_int(record["ring_order"], low=0, high=constants.MAX_RING_PAGE_ORDER):
        problems.append(f"{where}, column ring_order: expected an integer 0..{constants.MAX_RING_PAGE_ORDER} "
                        f"(ring of 2**order pages), found {record['ring_order']!r}")
    if "bs" in record:
        try:
            bs_bytes(record["bs"])
        except ValueError:
            problems.append(f"{where}, column bs: expected a block size such as 4k, 64k or 4096, "
                            f"found {record['bs']!r}")
    return problems


def _file_problems(folder: Path, where: str, name: str) -> list[str]:
    if not name:
        return [f"{where}, column file: expected a path relative to {folder}, found an empty cell"]
    pure = PurePosixPath(name.replace("\\", "/"))
    if "\x00" in name:  # no file system allows it; os.stat would raise
        return [f"{where}, column file: expected a file name, found {name!r} with a NUL byte"]
    if pure.is_absolute() or ".." in pure.parts:
        return [f"{where}, column file: expected a path inside the experiment folder, found {name!r}"]
    target = folder / pure
    found = safeio.path_kind(target)
    if found.startswith("nothing"):
        return [f"{where}, column file: expected an existing fio output file, found no {name!r} in {folder}"]
    if found == "a broken symlink":
        return [f"{where}, column file: expected an existing fio output file, found a broken symlink {name!r}"]
    if folder.resolve() not in target.resolve().parents:
        return [f"{where}, column file: expected a file inside the experiment folder, found {name!r}, a symlink "
                "to a path outside it (an experiment folder is read only within itself)"]
    if found != "a regular file":
        return [f"{where}, column file: expected a fio output file (a regular file), found {found} {name!r}"]
    if not os.access(target, os.R_OK):
        return [f"{where}, column file: expected a readable file, found {name!r} without read permission"]
    return []


# ASCII digits only: int() also takes "３" (fullwidth) and "3_0", which no other reader of the
# manifest (pandas, the runbook's bash) reads as the same number. At most 18 digits fit int64.
_ASCII_INT = re.compile(r"[0-9]{1,18}")


def _is_int(value: str, *, low: int, high: int | None = None) -> bool:
    if not _ASCII_INT.fullmatch(value):
        return False
    number = int(value)
    return number >= low and (high is None or number <= high)


def _normalised(name: str) -> str:
    return str(PurePosixPath(name.replace("\\", "/")))


def _typed(manifest: pd.DataFrame) -> pd.DataFrame:
    """Reserved integer columns as int64; other columns as numbers where every value is one."""
    for column in manifest.columns:
        if column in ("file", "mode", "bs", "manifest_line"):
            continue
        converted = pd.to_numeric(manifest[column], errors="coerce")
        if converted.notna().all():
            manifest[column] = converted
    if "bs" in manifest.columns:
        manifest["bs_bytes"] = manifest["bs"].map(bs_bytes).astype("int64")
    return manifest


# ---- ingestion -----------------------------------------------------------------------------


def _ingest(folder: Path, manifest: pd.DataFrame, *, progress: bool | None) -> dict[str, pd.DataFrame]:
    """Read every file with analysis.ingest.fio.read; unreadable ones become ManifestError lines."""
    from analysis.ingest import fio
    from analysis.progress import bar

    frames, problems = {}, []
    path = folder / MANIFEST
    for line, name in bar(list(zip(manifest["manifest_line"], manifest["file"])), desc="fio files", unit="file",
                          progress=progress):
        try:
            frames[name] = fio.read(folder / name)
        except (FioFormatError, OSError, ValueError) as err:
            problems.append(f"{path} line {line}, column file: expected fio output in a format "
                            f"analysis.ingest.fio reads, found {name!r}: {_first_line(err)}")
    if problems:
        raise ManifestError("\n".join(problems))
    return frames


def _join(manifest: pd.DataFrame, frames: dict[str, pd.DataFrame], conditions: list[str]) -> pd.DataFrame:
    parts = []
    for record in manifest.to_dict("records"):
        frame = frames[record["file"]]
        frame = frame.rename(columns={c: _FIO_PREFIX + c for c in frame.columns if c in record and c != "file"})
        for column, value in record.items():
            frame[column] = value
        parts.append(frame)
    table = pd.concat(parts, ignore_index=True)
    head = ["file"] + conditions + (["bs_bytes"] if "bs" in conditions else [])
    head = list(dict.fromkeys(h for h in head if h in table.columns))
    rest = [c for c in table.columns if c not in head and c != "manifest_line"]
    return table[head + ["manifest_line"] + rest]


def _guest_count_problems(folder: Path, table: pd.DataFrame, conditions: list[str]) -> list[str]:
    """A run whose files hold a different number of guests than its ``guests`` cell says."""
    if "guests" not in conditions:
        return []
    path = folder / MANIFEST
    totals = aggregate(table, conditions)
    key = run_key(conditions)
    problems = []
    lines = table.groupby(key, dropna=False)["manifest_line"].min()
    for row in totals.to_dict("records"):
        if row["guests_measured"] != row["guests"]:
            values = tuple(row[k] for k in key)
            line = lines.loc[values if len(key) > 1 else values[0]]
            problems.append(f"{path} line {line}, column guests: expected {row['guests']} guests in the run's "
                            f"fio output, found {row['guests_measured']}")
    return problems


def _first_line(err: Exception) -> str:
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__


#: What the bundled example (data/raw/measured-here/fio-experiment, written by
#: analysis.collect.loopback) can and cannot show; notebooks 09 and 10 print it beside its figures.
EXAMPLE_CANNOT_SHOW_TRADEOFF = (
    "The bundled example cannot show the persistent-grant trade-off. Its \"non-persistent\" runs use "
    "fio's mmap engine, which maps the file once and reads through that mapping: there is no map and "
    "no unmap per I/O, so no TLB shootdown per I/O, and the cost that non-persistent grants pay is "
    "absent by construction; \"non-persistent pays\" is built into the stand-in. Its dom0_vcpus is "
    "this VM's own CPU count, not a dom0's. The example shows how the analysis reads, fits and "
    "compares an experiment; only runs from a Xen host (pgrant-lab kit) can say which mode pays."
)


def run_overview(table: pd.DataFrame, conditions: list[str] | None = None) -> pd.DataFrame:
    """Notebook 01's per-run view of an experiment: one row per run with its conditions, total
    ``iops`` and ``bw_bytes_s``, the completion-latency percentiles over its guests' jobs
    (``clat_p50_ns`` median, ``clat_p99_ns`` and ``clat_p99_9_ns`` worst), and each run's guest
    shares: ``share_min_pct``/``share_max_pct``, the slowest and fastest guest's IOPS in % of the
    run's total (100 / guests each when the host is fair)."""
    conditions = list(conditions if conditions is not None else table.attrs.get("conditions", []))
    key = run_key(conditions)
    runs = aggregate(table, conditions)
    rows = table.loc[~table["is_aggregate"].astype(bool)]
    # A manifest with no condition (only a file column) is one run, as in aggregate.
    latency = rows.groupby(key or (lambda _: 0), dropna=False, sort=True).agg(
        clat_p50_ns=("clat_p50_ns", "median"), clat_p99_ns=("clat_p99_ns", "max"),
        clat_p99_9_ns=("clat_p99_9_ns", "max")).reset_index()
    if key:
        out = runs.merge(latency, on=key, how="left")
    else:
        out = pd.concat([runs.reset_index(drop=True), latency.drop(columns="index", errors="ignore")], axis=1)
    out["share_min_pct"] = 100 * out["iops_per_guest_min"] / out["iops"]
    out["share_max_pct"] = 100 * out["iops_per_guest_max"] / out["iops"]
    return out[key + ["guests_measured", "iops", "bw_bytes_s", "clat_p50_ns", "clat_p99_ns", "clat_p99_9_ns",
                      "share_min_pct", "share_max_pct"]]
