"""analysis.ingest.tidycsv writes the tidy rows byte for byte as pandas' to_csv would, on real fio output."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from analysis.errors import FioFormatError
from analysis.ingest import fio, tidycsv

from fio_session import run_fio, shm_dir  # noqa: F401 - session fixtures that run the real fio

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus" / "fio"
BUNDLED = sorted((ROOT / "data" / "raw" / "measured-here").rglob("*.json"))
SUMMARIES = [p for p in BUNDLED if p.name not in ("manifest.json",)]
CORPUS_FILES = sorted(CORPUS.glob("*")) if CORPUS.is_dir() else []

JOB = """
[global]
directory={shm}
size=1m
bs=4k
ioengine=psync
thread
[reader]
rw=randread
[writer "quoted, name"]
rw=randwrite
"""


def _both(path: Path, snapshots: bool = False) -> tuple[str, str]:
    rows = fio.read_records(path, snapshots=snapshots)
    ours = io.StringIO()
    columns = {**fio.COLUMNS, **({"snapshot": "int64"} if snapshots else {})}
    tidycsv.write(rows, columns, ours)
    pandas = io.StringIO()
    fio.frame(rows, snapshots=snapshots).to_csv(pandas, index=False)
    return ours.getvalue(), pandas.getvalue()


@pytest.mark.parametrize("path", SUMMARIES, ids=lambda p: str(p.relative_to(ROOT / "data")))
def test_bundled_fio_output_gives_the_same_csv_as_pandas(path):
    try:
        fio.detect_format(path)
    except FioFormatError:
        pytest.fail(f"{path} is bundled fio output and must be readable")
    if fio.detect_format(path) not in ("json", "terse"):
        return
    ours, pandas = _both(path)
    assert ours == pandas


@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda p: p.name)
def test_corpus_fio_output_gives_the_same_csv_as_pandas(path):
    """Files written by fio 2.1-3.40 on other people's machines; those the reader refuses are skipped
    here (tests/test_corpus.py checks what is read and refused)."""
    try:
        if fio.detect_format(path) not in ("json", "terse"):
            return
        ours, pandas = _both(path)
    except FioFormatError:
        return
    assert ours == pandas


@pytest.mark.parametrize("fmt", ["json", "json+", "terse"])
def test_fio_written_here_gives_the_same_csv_as_pandas_with_and_without_snapshots(run_fio, fmt):
    out = run_fio(f"tidycsv-{fmt.replace('+', 'plus')}", JOB, f"--output-format={fmt}")
    for snapshots in (False, True):
        ours, pandas = _both(out, snapshots)
        assert ours == pandas
        assert '"writer ""quoted, name"""' in ours if fmt != "terse" else True


def test_missing_and_special_values_follow_pandas():
    rows = [{c: None for c in fio.COLUMNS}]
    rows[0].update({"is_aggregate": True, "job": 0, "groupid": 0, "io_bytes": 0, "runtime_ms": 0, "error": 0,
                    "iops": float("nan"), "bw_bytes_s": 1e20, "lat_mean_ns": 0.1 + 0.2, "jobname": 'a"b,c',
                    "direction": "read"})
    ours = io.StringIO()
    tidycsv.write(rows, fio.COLUMNS, ours)
    pandas = io.StringIO()
    fio.frame(rows).to_csv(pandas, index=False)
    assert ours.getvalue() == pandas.getvalue()
