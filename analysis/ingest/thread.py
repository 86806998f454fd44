"""Read the 2012 thread's digitized figures: data/raw/seed-thread/ (see its README.md).

- ``thread-claims.csv``: every claim in reading order (who, when, a short quote);
- ``memory-claims.csv``: the ring-size and memory figures, with the premises each assumed;
- ``iops-vs-guests.csv``: the headline scaling points (650k IOPS at 5 guests, 400k at 10).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from analysis import paths
from analysis.errors import PgrantLabError

CLAIMS_COLUMNS = ("claim_id", "date_utc", "author", "builds_on", "excerpt")
MEMORY_CLAIM_COLUMNS = ("claim_id", "date_utc", "author", "quantity", "ring_order", "slots", "vms", "disks",
                        "relation", "value", "unit", "quote")
MEMORY_CLAIM_QUANTITIES = ("ring_slots", "mem_per_device", "mem_per_host", "page_pointer_array")


def load_memory_claims(data_dir: str | Path) -> pd.DataFrame:
    """The thread's memory and ring-size claims, one row per claim, from ``data_dir``."""
    path = Path(data_dir) / paths.MEMORY_CLAIMS_FILE
    try:
        claims = pd.read_csv(path, dtype={"claim_id": str, "quote": str})
    except FileNotFoundError:
        raise PgrantLabError(f"{path}: expected the digitized thread claims, found no such file") from None
    missing = [c for c in MEMORY_CLAIM_COLUMNS if c not in claims.columns]
    if missing:
        raise PgrantLabError(f"{path}: expected columns {', '.join(MEMORY_CLAIM_COLUMNS)}, missing {', '.join(missing)}")
    bad = sorted(set(claims["quantity"]) - set(MEMORY_CLAIM_QUANTITIES))
    if bad:
        raise PgrantLabError(f"{path}: field quantity: expected one of {', '.join(MEMORY_CLAIM_QUANTITIES)}, found {bad[0]!r}")
    return claims


def load_thread_claims(data_dir: str | Path) -> pd.DataFrame:
    """The thread's claims in reading order: claim_id, date_utc, author, builds_on, excerpt."""
    path = Path(data_dir) / paths.THREAD_CLAIMS_FILE
    try:
        claims = pd.read_csv(path, dtype=str, keep_default_na=False)
    except FileNotFoundError:
        raise PgrantLabError(f"{path}: expected the digitized thread claims, found no such file") from None
    missing = [c for c in CLAIMS_COLUMNS if c not in claims.columns]
    if missing:
        raise PgrantLabError(f"{path}: expected columns {', '.join(CLAIMS_COLUMNS)}, missing {', '.join(missing)}")
    unknown = sorted(set(claims["builds_on"]) - set(claims["claim_id"]) - {""})
    if unknown:
        raise PgrantLabError(f"{path}: field builds_on: expected a claim_id of this file, found {unknown[0]!r}")
    return claims


def load_scaling_points(data_dir: str | Path) -> pd.DataFrame:
    """The thread's scaling points as digitized (iops-vs-guests.csv): guests, total_iops, mode,
    dom0_vcpus, peak (bool) and the columns naming their source message."""
    path = Path(data_dir) / paths.SCALING_FILE
    try:
        return pd.read_csv(path)
    except FileNotFoundError:
        raise PgrantLabError(f"{path}: expected the digitized scaling points, found no such file") from None


def seed_points(data_dir: str | Path) -> dict:
    """The thread's peak and later point (guests, total IOPS) and dom0 VCPUs, from iops-vs-guests.csv."""
    path = Path(data_dir) / paths.SCALING_FILE
    table = load_scaling_points(data_dir)
    peak, later = table[table["peak"]], table[~table["peak"]]
    if len(peak) != 1 or len(later) != 1:
        raise PgrantLabError(f"{path}: field peak: expected one true and one false row, "
                             f"found {len(peak)} true and {len(later)} false")
    return {"n_peak": int(peak["guests"].iloc[0]), "x_peak": float(peak["total_iops"].iloc[0]),
            "n_later": int(later["guests"].iloc[0]), "x_later": float(later["total_iops"].iloc[0]),
            "dom0_vcpus": int(peak["dom0_vcpus"].iloc[0])}


