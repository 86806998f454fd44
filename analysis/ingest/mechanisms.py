"""Read what :mod:`analysis.collect.mechanisms` measured here: samples CSVs and manifests.

Raw CSV -> tidy DataFrame with units in the column names; validation happens here. Nothing here ran
on Xen: each folder's manifest names the machine.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from analysis import machine
from analysis.errors import SamplesFormatError



def provenance_note(manifest: dict, samples: int) -> str:
    """One Markdown paragraph for a notebook: which folder, how many samples, on what, how noisy."""
    return (f"**Data**: `data/raw/measured-here/{manifest['experiment']}` ({samples:,} samples), "
            f"{machine.label(manifest)}; {manifest['compiler']} `{' '.join(manifest['cflags'])}`; "
            f"{manifest['repetitions']} repetitions per point; load average "
            f"{manifest['load_average_before'][0]:.2f} before the run. " + " ".join(manifest["notes"]))


SAMPLE_COLUMNS: dict[str, dict[str, str]] = {
    "memcpy": {"layout": "str", "cache": "str", "size_bytes": "count", "rep": "index", "copies": "count",
               "elapsed_ns": "time", "checksum": "index", "expected": "index"},
    "lookup": {"structure": "str", "outcome": "str", "n": "count", "rep": "index", "lookups": "count",
               "elapsed_ns": "time", "checksum": "index", "expected": "index"},
    "unmap": {"op": "str", "remote_threads": "index", "pages_per_call": "count", "rep": "index",
              "elapsed_ns": "time"},
    "counters": {"op": "str", "remote_threads": "index", "pages_per_call": "count", "calls": "count",
                 "tlb_irqs": "int", "cal_irqs": "int"},
    "perf": {"op": "str", "remote_threads": "index", "pages_per_call": "count", "calls": "count",
             "event": "str", "count": "int"},
}


def read_samples(path: Path, schema: str) -> pd.DataFrame:
    """Read one samples CSV and check it against a schema in SAMPLE_COLUMNS.

    Kinds: str (non-empty), index (integer >= 0), count (integer >= 1), int (any integer, -1 means
    unavailable), time (finite number > 0, ns). Checksum columns must equal their expected column.
    Raises SamplesFormatError naming the file, the column, what was expected and what was found.
    """
    path = Path(path)
    if not path.exists():
        raise SamplesFormatError(f"{path}: expected a samples CSV, found no such file.")
    try:
        df = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise SamplesFormatError(f"{path}: expected a CSV with a header row, found unreadable text ({err}).") from None
    columns = SAMPLE_COLUMNS[schema]
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise SamplesFormatError(
            f"{path}: expected columns {', '.join(columns)}, found {', '.join(map(str, df.columns))} "
            f"(missing {', '.join(missing)})."
        )
    if df.empty:
        raise SamplesFormatError(f"{path}: expected at least one sample row, found none.")
    for column, kind in columns.items():
        df[column] = _checked(path, column, kind, df[column])
    if "checksum" in columns:
        bad = df.index[df["checksum"] != df["expected"]]
        if len(bad):
            row = bad[0]
            raise SamplesFormatError(
                f"{path}: column checksum, row {row + 2}: expected {df.at[row, 'expected']} (the copy or "
                f"lookup was validated), found {df.at[row, 'checksum']}."
            )
    return df[list(columns)]


def _checked(path: Path, column: str, kind: str, values: pd.Series) -> pd.Series:
    if kind == "str":
        bad = values.isna() | (values.astype(str).str.strip() == "")
        what = "a non-empty name"
        converted = values.astype(str)
    else:
        numbers = pd.to_numeric(values, errors="coerce")
        finite = np.isfinite(numbers)
        if kind == "time":
            bad = ~finite | ~(numbers > 0)
            what = "a finite time in ns > 0"
            converted = numbers.astype(float)
        else:
            integral = finite & (numbers == np.floor(numbers.where(finite, 0)))
            low = {"index": 0, "count": 1, "int": -1}[kind]
            bad = ~integral | ~(numbers >= low)
            what = f"an integer >= {low}"
            converted = numbers.where(~bad, 0).astype("int64")
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise SamplesFormatError(
            f"{path}: column {column}, row {row + 2}: expected {what}, found '{values.iloc[row]}'."
        )
    return converted


def load_memcpy(folder: Path) -> pd.DataFrame:
    """Tidy memcpy samples: impl (c|numpy), layout, cache, size_bytes, rep, copies, elapsed_ns,
    copy_ns (time per request copy), bw_bytes_s. From samples-c.csv and samples-numpy.csv (if any)."""
    folder = Path(folder)
    parts = []
    for impl, name in (("c", "samples-c.csv"), ("numpy", "samples-numpy.csv")):
        if impl == "numpy" and not (folder / name).exists():
            continue
        part = read_samples(folder / name, "memcpy").drop(columns=["checksum", "expected"])
        part.insert(0, "impl", impl)
        parts.append(part)
    df = pd.concat(parts, ignore_index=True)
    df["copy_ns"] = df["elapsed_ns"] / df["copies"]
    df["bw_bytes_s"] = df["size_bytes"] / (df["copy_ns"] * 1e-9)
    return df


def load_lookup(folder: Path) -> pd.DataFrame:
    """Tidy lookup samples: structure, outcome (hit|miss), n_grants, rep, lookups, elapsed_ns,
    lookup_ns (time per lookup). From samples.csv."""
    df = read_samples(Path(folder) / "samples.csv", "lookup").drop(columns=["checksum", "expected"])
    df = df.rename(columns={"n": "n_grants"})
    df["lookup_ns"] = df["elapsed_ns"] / df["lookups"]
    return df


def load_unmap(folder: Path) -> pd.DataFrame:
    """Tidy unmap samples: op (munmap|mprotect), remote_threads, pages_per_call, rep, call_ns,
    page_ns (call_ns / pages_per_call), call_us. From samples.csv."""
    df = read_samples(Path(folder) / "samples.csv", "unmap").rename(columns={"elapsed_ns": "call_ns"})
    df["page_ns"] = df["call_ns"] / df["pages_per_call"]
    df["call_us"] = df["call_ns"] / 1e3
    return df


def load_unmap_counters(folder: Path) -> pd.DataFrame:
    """Interrupt counts per unmap configuration: tlb_irqs and cal_irqs (/proc/interrupts deltas,
    system-wide) per call, and, where perf-counts.csv exists, each perf event per call."""
    folder = Path(folder)
    keys = ["op", "remote_threads", "pages_per_call"]
    df = read_samples(folder / "counters.csv", "counters")
    for column in ("tlb_irqs", "cal_irqs"):
        df[f"{column}_per_call"] = df[column].where(df[column] >= 0) / df["calls"]
    if (folder / "perf-counts.csv").exists():
        perf = read_samples(folder / "perf-counts.csv", "perf")
        perf["per_call"] = perf["count"].where(perf["count"] >= 0) / perf["calls"]
        wide = perf.pivot_table(index=keys, columns="event", values="per_call").add_suffix("_per_call")
        df = df.merge(wide.reset_index(), on=keys, how="left")
    return df


def load_manifest(folder: Path) -> dict:
    """The manifest.json of one measured-here experiment folder."""
    path = Path(folder) / "manifest.json"
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise SamplesFormatError(f"{path}: expected a manifest.json beside the samples, found no such file.") from None
    except json.JSONDecodeError as err:
        raise SamplesFormatError(f"{path}: expected JSON, found a syntax error ({err.msg}, line {err.lineno}).") from None


def summarize(df: pd.DataFrame, by: list[str], value: str) -> pd.DataFrame:
    """Per group: samples, min, p10, median, p90, max of `value` (same unit as `value`)."""
    g = df.groupby(by)[value]
    out = pd.DataFrame({"samples": g.size(), "min": g.min(), "p10": g.quantile(0.1), "median": g.median(),
                        "p90": g.quantile(0.9), "max": g.max()})
    return out.reset_index()


