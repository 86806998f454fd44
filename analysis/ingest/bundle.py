"""Load the bundled raw inputs of the verdicts once: the 2012 thread's digitized figures and the
mechanisms measured on this machine, as tables (:class:`Inputs`).

``load_bundled(data_dir)`` reads every file once (``data/raw/seed-thread`` through
analysis.ingest.thread, ``data/raw/measured-here/{unmap-shootdown,memcpy,gref-lookup}`` through
analysis.ingest.mechanisms); analysis.decide.verdicts takes the result and never opens a file.
The simulated data sets the verdicts also use are read by analysis.simulated (a later stage).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from analysis import paths
from analysis.ingest import mechanisms, thread


@dataclass(frozen=True)
class Measured:
    """One mechanism measured here: its samples, its manifest.json and the folder they came from."""

    samples: pd.DataFrame
    manifest: dict
    folder: Path


@dataclass(frozen=True)
class Inputs:
    """The bundled raw inputs as tables.

    claims: thread-claims.csv (claim_id, date_utc, author, builds_on, excerpt);
    memory_claims: memory-claims.csv (the ring-size and memory figures with their premises);
    seed: the thread's scaling points (``thread.seed_points``: n_peak, x_peak, n_later, x_later,
    dom0_vcpus); scaling: the same points as a table (iops-vs-guests.csv); unmap, memcpy, lookup: the mechanisms measured on this machine (native Linux, not Xen);
    claims_path: where the claims came from (named in errors about them).
    """

    claims: pd.DataFrame
    memory_claims: pd.DataFrame
    seed: dict
    scaling: pd.DataFrame
    unmap: Measured
    memcpy: Measured
    lookup: Measured
    claims_path: Path


def load_measured(folder: Path, load) -> Measured:
    """``load(folder)``'s samples with the folder's manifest.json."""
    return Measured(samples=load(folder), manifest=mechanisms.load_manifest(folder), folder=Path(folder))


def load_bundled(data_dir: str | Path = paths.DATA_DIR) -> Inputs:
    """Every bundled raw input of the verdicts, each file read once (errors name file and field)."""
    data_dir = Path(data_dir)
    return Inputs(
        claims=thread.load_thread_claims(data_dir),
        memory_claims=thread.load_memory_claims(data_dir),
        seed=thread.seed_points(data_dir),
        scaling=thread.load_scaling_points(data_dir),
        unmap=load_measured(data_dir / paths.UNMAP_DIR, mechanisms.load_unmap),
        memcpy=load_measured(data_dir / paths.MEMCPY_DIR, mechanisms.load_memcpy),
        lookup=load_measured(data_dir / paths.LOOKUP_DIR, mechanisms.load_lookup),
        claims_path=data_dir / paths.THREAD_CLAIMS_FILE,
    )
