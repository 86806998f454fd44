"""Every data path of the suite, defined once (as Cookiecutter Data Science's ``config.py`` does).

Absolute paths point into this checkout; the ``*_FILE`` and ``*_DIR`` names below ``data/`` are
relative to a data folder (``DATA_DIR`` for the bundled data) so that a reader can be pointed at a
copy. Only ``analysis.ingest`` and ``analysis.collect`` open what lies under ``data/raw``.
"""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS_DIR = REPO_ROOT / "notebooks"
DATA_DIR = REPO_ROOT / "data"
RAW_DATA_DIR = DATA_DIR / "raw"
BENCHMARK_SOURCES_DIR = REPO_ROOT / "benchmarks" / "mechanisms"

# Relative to a data folder.
RAW = Path("raw")
SIMULATED = Path("simulated")
MEASURED_HERE = RAW / "measured-here"
SEED_THREAD = RAW / "seed-thread"

THREAD_CLAIMS_FILE = SEED_THREAD / "thread-claims.csv"
MEMORY_CLAIMS_FILE = SEED_THREAD / "memory-claims.csv"
SCALING_FILE = SEED_THREAD / "iops-vs-guests.csv"

SWEEP_DIR = MEASURED_HERE / "fio-sweep"
EXAMPLE_EXPERIMENT = MEASURED_HERE / "fio-experiment"
MEMCPY_DIR = MEASURED_HERE / "memcpy"
LOOKUP_DIR = MEASURED_HERE / "gref-lookup"
UNMAP_DIR = MEASURED_HERE / "unmap-shootdown"
