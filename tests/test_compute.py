"""analysis.compute.map_ordered and its users: the same result serially, in processes and on Dask."""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
from contextlib import redirect_stdout
from pathlib import Path

import pandas as pd
import pytest

from analysis.cli import main
from analysis.compute import map_ordered
from analysis.errors import FioFormatError, UsageError
from analysis.ingest import fio
from analysis.ingest.parallel import read_records_many

ROOT = Path(__file__).resolve().parents[1]
SWEEP = ROOT / "data" / "raw" / "measured-here" / "fio-sweep"
SWEEP_FILES = sorted(SWEEP.glob("*-r0.json"))  # 32 json+ files fio wrote here


def _square(x: int) -> int:
    return x * x


def _fail_on_odd(x: int) -> int:
    if x % 2:
        raise UsageError(f"item {x}: expected an even number, found an odd one")
    return x


def test_map_ordered_keeps_the_order_in_processes():
    assert map_ordered(_square, range(40), workers=2) == [x * x for x in range(40)]


def test_map_ordered_raises_the_first_error_in_input_order():
    with pytest.raises(UsageError, match=r"^item 1: expected an even number"):
        map_ordered(_fail_on_odd, [0, 2, 1, 3], workers=2)


def test_map_ordered_refuses_zero_workers():
    with pytest.raises(UsageError, match=r"workers=0: expected a number of processes >= 1"):
        map_ordered(_square, [1], workers=0)


def test_parallel_parse_gives_the_serial_table():
    serial = fio.read_many(SWEEP_FILES)
    parallel = fio.frame(read_records_many(SWEEP_FILES, workers=2))
    pd.testing.assert_frame_equal(serial, parallel)


def test_a_bad_file_among_many_is_named(tmp_path):
    files = [tmp_path / f"{i:02d}.json" for i in range(20)]
    for target, source in zip(files, SWEEP_FILES):
        shutil.copy(source, target)
    text = files[13].read_text()
    files[13].write_text(text[: len(text) // 2])  # a cut-off fio report
    with pytest.raises(FioFormatError, match=r"13\.json: "):
        read_records_many(files, workers=2)


def _ingest_csv(*args: str) -> str:
    out = io.StringIO()
    with redirect_stdout(out):
        assert main(["ingest", *args]) == 0
    return out.getvalue()


def test_ingest_of_a_folder_reads_every_matching_file_recursively(tmp_path):
    for i, source in enumerate(SWEEP_FILES[:10]):
        sub = tmp_path / f"host-{i % 3}"
        sub.mkdir(exist_ok=True)
        shutil.copy(source, sub / source.name)
    (tmp_path / "notes.txt").write_text("not fio output, and not *.json")
    table = pd.read_csv(io.StringIO(_ingest_csv(str(tmp_path), "--workers", "2")))
    expected = fio.read_many(sorted(tmp_path.rglob("*.json")))
    assert len(table) == len(expected) and list(table["source"]) == list(expected["source"])


def test_ingest_of_a_folder_without_matching_files_is_one_sentence(tmp_path, capsys):
    assert main(["ingest", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.endswith("expected fio output files matching *.json in the folder, found none") and "\n" not in err


@pytest.mark.slow
def test_ingest_through_a_dask_local_cluster_gives_the_same_table(tmp_path):
    distributed = pytest.importorskip("dask.distributed", reason="the dask extra is installed by `make test`")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        with_dask = _ingest_csv(*map(str, SWEEP_FILES), "--dask", cluster.scheduler_address)
    assert with_dask == _ingest_csv(*map(str, SWEEP_FILES), "--workers", "1")


@pytest.mark.slow
def test_simulator_sweep_through_dask_gives_the_serial_table():
    distributed = pytest.importorskip("dask.distributed", reason="the dask extra is installed by `make test`")
    from analysis.simulated import grants

    kwargs = {"working_sets": (88, 352, 704), "orders": ("random",), "requests": 300}
    serial, _ = grants.cliff(**kwargs)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        on_dask, _ = grants.cliff(**kwargs, dask=cluster.scheduler_address)
    in_processes, _ = grants.cliff(**kwargs, workers=2)
    pd.testing.assert_frame_equal(serial, on_dask)
    pd.testing.assert_frame_equal(serial, in_processes)


def test_an_unreachable_dask_scheduler_is_one_sentence(capsys):
    pytest.importorskip("dask.distributed", reason="the dask extra is installed by `make test`")
    assert main(["ingest", str(SWEEP_FILES[0]), "--dask", "tcp://127.0.0.1:9"]) == 2
    err = capsys.readouterr().err.strip()
    assert "expected a reachable Dask scheduler address" in err and "\n" not in err


def test_help_and_ingest_do_not_import_pandas(tmp_path):
    """Start-up cost is what makes one file slow: neither listing the commands nor ingesting a
    summary may pay for pandas, numpy or scipy (checked in a fresh interpreter)."""
    probe = ("import sys, contextlib, io\n"
             "from analysis.cli import main\n"
             "with contextlib.redirect_stdout(io.StringIO()):\n"
             "    try:\n        main(['--help'])\n    except SystemExit:\n        pass\n"
             "    assert main(['ingest', sys.argv[1], '--out', sys.argv[2]]) == 0\n"
             "print(sorted(m for m in ('pandas', 'numpy', 'scipy', 'matplotlib') if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", probe, str(SWEEP_FILES[0]), str(tmp_path / "t.csv")],
                         capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]"
    assert (tmp_path / "t.csv").read_text() == _ingest_via_pandas(SWEEP_FILES[0])


def _ingest_via_pandas(path: Path) -> str:
    out = io.StringIO()
    fio.read(path).to_csv(out, index=False)
    return out.getvalue()
