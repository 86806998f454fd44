"""analysis.ingest.fiolog on logs that fio 3.x wrote in this test session (one fio run, several jobs).

Every valid input here is real fio output; bad inputs are real logs corrupted in tmp_path.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.constants import FIO_PLAT_NR
from analysis.errors import FioFormatError, FioUnitWarning, UsageError
from analysis.ingest.fiolog import hist_bin_edges_ns, read_hist_log, read_log

pytestmark = pytest.mark.slow

SIZE_BYTES = 1 << 20
BS_BYTES = 4096
RATE_IOPS = 1000  # per direction; spreads 128 I/Os per direction over ~130 ms for windows
WINDOW_MS = 20
WINDOW_RUN_MS = 300

# One job per log layout: (job name, options). All run in parallel in one fio process.
JOBS = {
    "plain": "ioengine=psync\nwrite_bw_log=plain\nwrite_iops_log=plain\nwrite_lat_log=plain",
    "offset": "ioengine=psync\nwrite_lat_log=offset\nlog_offset=1",
    "offprio": "ioengine=libaio\niodepth=4\nprioclass=2\nprio=5\nwrite_lat_log=offprio\nlog_offset=1\nlog_prio=1",
    "prio": "ioengine=libaio\niodepth=4\nprioclass=2\nprio=5\nwrite_lat_log=prio\nlog_prio=1",
    # fio 3.33 wrote empty windowed bw/iops logs for a 130 ms size-bound job: run this one by time.
    "window": f"ioengine=libaio\niodepth=2\nrate_iops={RATE_IOPS}\ntime_based=1\nruntime={WINDOW_RUN_MS}ms\n"
    f"write_bw_log=window\nwrite_iops_log=window\nwrite_lat_log=window\nlog_avg_msec={WINDOW_MS}\nlog_offset=1",
    "trim": "ioengine=null\nrw=randtrim\nwrite_lat_log=trim\nwrite_iops_log=trim",
    "hist0": f"ioengine=psync\nrate_iops={RATE_IOPS}\nwrite_hist_log=hist0\nlog_hist_msec={WINDOW_MS}",
    "hist3": f"ioengine=psync\nrate_iops={RATE_IOPS}\nwrite_hist_log=hist3\nlog_hist_msec={WINDOW_MS}\n"
    "log_hist_coarseness=3",
}
# ioprio value for prioclass=2 (best effort), prio=5: class << 13 | level (linux/ioprio.h).
IOPRIO_BE_5 = (2 << 13) | 5


class FioRun:
    """The logs and the json+ summary of one fio run, looked up by job name."""

    def __init__(self, folder: Path, summary: dict):
        self.folder = folder
        self.jobs = {job["jobname"]: job for job in summary["jobs"]}

    def log(self, job: str, metric: str) -> Path:
        (found,) = self.folder.glob(f"{job}_{metric}.*.log")
        return found


def _json_document(text: str) -> dict:
    # fio may print notes before the JSON document (fio-usl-notebook-notes.md, "JSON quirks").
    return json.JSONDecoder().raw_decode(text[text.index("{") :])[0]


@pytest.fixture(scope="session")
def fio_run(tmp_path_factory) -> FioRun:
    if shutil.which("fio") is None:
        pytest.fail("fio is not on PATH (Debian: apt-get install fio)")
    folder = tmp_path_factory.mktemp("fiolog")
    sections = [f"[global]\nsize={SIZE_BYTES}\nbs={BS_BYTES}\nrw=randrw\ndirectory={folder}\n"]
    sections += [f"[{name}]\n{options}\n" for name, options in JOBS.items()]
    (folder / "jobs.fio").write_text("\n".join(sections))
    subprocess.run(
        ["fio", "--output-format=json+", "--output=summary.json", "jobs.fio"],
        cwd=folder, check=True, capture_output=True, timeout=60,
    )
    return FioRun(folder, _json_document((folder / "summary.json").read_text()))


def _copy(src: Path, tmp_path: Path, name: str | None = None) -> Path:
    dst = tmp_path / (name or src.name)
    shutil.copyfile(src, dst)
    return dst


def _rewrite_line(path: Path, lineno: int, edit) -> None:
    lines = path.read_text().splitlines(keepends=True)
    fields = lines[lineno - 1].rstrip("\n").split(", ")
    lines[lineno - 1] = ", ".join(edit(fields)) + "\n"
    path.write_text("".join(lines))


# --- per-I/O logs ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("metric", "value_column"),
    [("bw", "bw_kib_s"), ("iops", "iops"), ("lat", "lat_ns"), ("clat", "clat_ns")],
)
def test_plain_log_schema_and_one_row_per_io(fio_run, metric, value_column):
    table = read_log(fio_run.log("plain", metric))
    assert list(table.columns) == ["time_ms", value_column, "direction", "bs_bytes", "prio_rt", "source", "metric"]
    assert table.dtypes.astype(str).to_dict() == {
        "time_ms": "int64", value_column: "int64", "direction": "category", "bs_bytes": "int64",
        "prio_rt": "bool", "source": "category", "metric": "category",
    }
    assert list(table["direction"].cat.categories) == ["read", "write", "trim"]
    job = fio_run.jobs["plain"]
    counts = table["direction"].value_counts()
    assert counts["read"] == job["read"]["total_ios"] and counts["write"] == job["write"]["total_ios"]
    assert counts["trim"] == 0
    assert (table["bs_bytes"] == BS_BYTES).all()
    assert not table["prio_rt"].any()
    assert set(table["metric"]) == {metric}
    assert set(table["source"]) == {str(fio_run.log("plain", metric))}
    assert table["time_ms"].is_monotonic_increasing


@pytest.mark.parametrize("metric", ["lat", "clat"])
def test_latency_log_mean_matches_the_json_summary_in_ns(fio_run, metric):
    table = read_log(fio_run.log("plain", metric))
    job = fio_run.jobs["plain"]
    for direction in ("read", "write"):
        logged = table.loc[table["direction"] == direction, f"{metric}_ns"]
        summary = job[direction][f"{metric}_ns"]
        assert logged.mean() == pytest.approx(summary["mean"], rel=1e-6)
        assert logged.min() == summary["min"] and logged.max() == summary["max"]


def test_iops_log_writes_one_per_io_and_bw_log_is_bytes_over_clat(fio_run):
    iops = read_log(fio_run.log("plain", "iops"))
    assert (iops["iops"] == 1).all()
    bw = read_log(fio_run.log("plain", "bw"))
    clat = read_log(fio_run.log("plain", "clat"))
    # fio io_u.c logs add_bw_sample(td, io_u, bytes, clat_ns) per I/O and stat.c computes
    # rate = bytes * 1000000 / clat_ns: the two logs are row-aligned, and only a clat in ns
    # (not us) and a rate in fio's KiB/s reproduce each other exactly.
    assert len(bw) == len(clat) > 0
    expected = (bw["bs_bytes"] * 1_000_000) // clat["clat_ns"]
    assert (bw["bw_kib_s"] == expected).all()
    assert (bw["direction"] == clat["direction"]).all()


def test_empty_slat_log_of_a_synchronous_engine_reads_as_zero_typed_rows(fio_run):
    path = fio_run.log("plain", "slat")
    assert path.stat().st_size == 0
    table = read_log(path)
    assert len(table) == 0
    assert table.dtypes.astype(str).to_dict() == {
        "time_ms": "int64", "slat_ns": "int64", "direction": "category", "bs_bytes": "int64",
        "source": "category", "metric": "category",
    }


def test_log_offset_adds_offsets_inside_the_file(fio_run):
    table = read_log(fio_run.log("offset", "clat"))
    assert list(table.columns[:6]) == ["time_ms", "clat_ns", "direction", "bs_bytes", "offset_bytes", "prio_rt"]
    assert table["offset_bytes"].dtype == np.int64
    assert table["offset_bytes"].between(0, SIZE_BYTES - BS_BYTES).all()
    assert (table["offset_bytes"] % BS_BYTES == 0).all()
    assert table["offset_bytes"].nunique() > 1


@pytest.mark.parametrize(("job", "has_offset"), [("offprio", True), ("prio", False)])
def test_log_prio_reads_the_hex_ioprio_value(fio_run, job, has_offset):
    for metric in ("lat", "clat", "slat"):
        table = read_log(fio_run.log(job, metric))
        assert ("offset_bytes" in table) is has_offset
        assert "prio_rt" not in table
        assert table["prio"].dtype == np.int64
        assert (table["prio"] == IOPRIO_BE_5).all()
        assert len(table) == fio_run.jobs[job]["read"]["total_ios"] + fio_run.jobs[job]["write"]["total_ios"]


@pytest.mark.skipif(os.geteuid() != 0, reason="the real-time ioprio class needs root (ioprio_set(2))")
def test_prio_rt_flag_is_true_for_a_real_time_job(tmp_path):
    subprocess.run(
        ["fio", "--name=rt", f"--filename={tmp_path / 'data'}", "--size=64k", "--bs=4k", "--rw=randrw",
         "--ioengine=psync", "--prioclass=1", "--prio=0", "--write_lat_log=rt", "--output=/dev/null"],
        cwd=tmp_path, check=True, capture_output=True, timeout=60,
    )
    table = read_log(tmp_path / "rt_clat.1.log")
    assert len(table) == 16 and table["prio_rt"].all()


def test_slat_log_of_libaio_matches_the_json_summary(fio_run):
    table = read_log(fio_run.log("prio", "slat"))
    summary = fio_run.jobs["prio"]["read"]["slat_ns"]
    reads = table.loc[table["direction"] == "read", "slat_ns"]
    assert reads.mean() == pytest.approx(summary["mean"], rel=1e-6)


@pytest.mark.parametrize("metric", ["bw", "iops", "lat"])
def test_windowed_log_has_zero_bs_and_offset_and_a_row_per_window(fio_run, metric):
    table = read_log(fio_run.log("window", metric))
    assert len(table) > 0
    assert (table["bs_bytes"] == 0).all() and (table["offset_bytes"] == 0).all()
    assert set(table["direction"]) == {"read", "write"}
    # about one row per direction per window (fio may repeat a time stamp at the end, #739),
    # far fewer than one per I/O
    per_direction = table["direction"].value_counts()
    assert (per_direction[["read", "write"]] <= WINDOW_RUN_MS // WINDOW_MS + 3).all()
    assert per_direction["read"] < fio_run.jobs["window"]["read"]["total_ios"] / 4


def test_windowed_iops_are_near_the_rate_limit(fio_run):
    table = read_log(fio_run.log("window", "iops"))
    # fio's window value is I/Os per second (not per window, which would be ~RATE_IOPS * 0.02);
    # rate_iops caps it near RATE_IOPS per direction (less on a busy machine; window times are
    # irregular under load, fio issues #739 and #1058, so we do not check them).
    assert RATE_IOPS / 4 <= table["iops"].median() <= RATE_IOPS * 1.5


def test_trim_direction_from_ddir_2(fio_run):
    table = read_log(fio_run.log("trim", "clat"))
    assert set(table["direction"]) == {"trim"}
    assert len(table) == fio_run.jobs["trim"]["trim"]["total_ios"]


def test_metric_override_for_a_renamed_file(fio_run, tmp_path):
    path = _copy(fio_run.log("plain", "clat"), tmp_path, "renamed.csv")
    with pytest.raises(FioFormatError) as err:
        read_log(path)
    assert str(err.value) == (
        f"fio log {path}: expected _bw., _iops., _lat., _clat. or _slat. in the file name "
        "to tell the metric, found none; pass metric= to say which"
    )
    table = read_log(path, metric="clat")
    assert "clat_ns" in table and len(table) > 0
    with pytest.raises(UsageError, match=r"^metric='p99': expected one of bw, iops, lat, clat, slat$"):
        read_log(path, metric="p99")


def test_per_job_logs_0_name_tells_the_metric(fio_run, tmp_path):
    path = _copy(fio_run.log("plain", "slat"), tmp_path, "x_lat_slat.log")
    assert set(read_log(path).columns) >= {"slat_ns"}


# --- bad per-I/O logs ---------------------------------------------------------------------------


BAD_LOGS = {
    "non-numeric value": (
        "plain", "clat", 3, lambda f: [f[0], "12x4", *f[2:]],
        " line 3 field 2 (value): expected an integer of at most 19 digits, found '12x4'",
    ),
    "empty value": (
        "plain", "clat", 2, lambda f: [f[0], "", *f[2:]],
        " line 2 field 2 (value): expected an integer of at most 19 digits, found ''",
    ),
    "value beyond int64": (
        "plain", "bw", 6, lambda f: [f[0], str(1 << 64), *f[2:]],
        f" line 6 field 2 (value): expected an integer of at most 19 digits, found '{1 << 64}'",
    ),
    "extra field": (
        "plain", "lat", 7, lambda f: [*f, "9"],
        " line 7: expected 5 comma-separated fields (time_ms, value, ddir, bs_bytes, prio) as on line 1, found 6",
    ),
    "missing field": (
        "offset", "lat", 5, lambda f: f[:-1],
        " line 5: expected 6 comma-separated fields (time_ms, value, ddir, bs_bytes, offset_bytes, prio) "
        "as on line 1, found 5",
    ),
    "unknown direction": (
        "plain", "iops", 2, lambda f: [f[0], f[1], "3", *f[3:]],
        " line 2 field 3 (ddir): expected 0 (read), 1 (write) or 2 (trim), found '3'",
    ),
    "bad hex prio": (
        "prio", "clat", 4, lambda f: [*f[:-1], "0xZZ"],
        " line 4 field 5 (prio): expected a hex ioprio such as 0x0000 (log_prio=1), found '0xZZ'",
    ),
    "decimal prio beyond the flag": (
        "offset", "clat", 8, lambda f: [*f[:-1], "2"],
        " line 8 field 6 (prio): expected 0 or 1 (the real-time class flag), found '2'",
    ),
    "first line of a layout no fio writes": (
        "plain", "clat", 1, lambda f: f[:3],
        " line 1: expected 4, 5 or 6 comma-separated fields (time, value, ddir, bs[, offset][, prio] as fio "
        "writes), found 3",
    ),
    "negative latency": (
        "plain", "clat", 3, lambda f: [f[0], "-" + f[1], *f[2:]],
        " line 3 field 2 (value): expected a value of 0 or more (a latency, bandwidth or IOPS), found '-",
    ),
}


@pytest.mark.parametrize("case", list(BAD_LOGS))
def test_bad_log_gives_one_sentence_naming_line_field_expected_and_found(fio_run, tmp_path, case):
    job, metric, lineno, edit, message = BAD_LOGS[case]
    path = _copy(fio_run.log(job, metric), tmp_path)
    _rewrite_line(path, lineno, edit)
    with pytest.raises(FioFormatError) as err:
        read_log(path)
    assert str(err.value).startswith(f"fio log {path}{message}")
    assert "\n" not in str(err.value)


def test_binary_file_message_is_short(fio_run, tmp_path):
    path = _copy(fio_run.log("plain", "clat"), tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[:200] + bytes(range(128, 256)) * 2 + data[200:])
    with pytest.raises(FioFormatError) as err:
        read_log(path)
    message = str(err.value)
    assert message.startswith(f"fio log {path} line ") and "\n" not in message and len(message) < 300


def test_missing_file(tmp_path):
    path = tmp_path / "gone_clat.1.log"
    with pytest.raises(FioFormatError) as err:
        read_log(path)
    assert str(err.value) == f"fio log {path}: expected a readable file, found no such file"


def test_histogram_log_given_to_read_log(fio_run):
    path = fio_run.log("hist0", "clat_hist")
    with pytest.raises(FioFormatError, match=r"found a histogram log name \(_clat_hist\.\); read it with read_hist_log$"):
        read_log(path)


# --- histogram logs ------------------------------------------------------------------------------


@pytest.mark.parametrize(("job", "coarseness"), [("hist0", 0), ("hist3", 3)])
def test_histogram_log_has_1856_shifted_by_coarseness_bins(fio_run, job, coarseness):
    path = fio_run.log(job, "clat_hist")
    n_fields = len(path.read_text().splitlines()[0].split(","))
    assert n_fields - 3 == FIO_PLAT_NR >> coarseness == 1856 >> coarseness
    table = read_hist_log(path)
    assert table.attrs["coarseness"] == coarseness
    assert list(table.columns) == [
        "time_ms", "direction", "bs_bytes", "bin", "lat_low_ns", "lat_high_ns", "lat_ns", "count", "source",
    ]
    assert table.dtypes.astype(str).to_dict() == {
        "time_ms": "int64", "direction": "category", "bs_bytes": "int64", "bin": "int64",
        "lat_low_ns": "int64", "lat_high_ns": "int64", "lat_ns": "float64", "count": "int64",
        "source": "category",
    }
    assert (table["count"] > 0).all()
    assert table["bin"].between(0, (FIO_PLAT_NR >> coarseness) - 1).all()
    assert set(table["direction"]) == {"read", "write"}
    assert (table["bs_bytes"] == BS_BYTES).all()
    assert ((table["lat_low_ns"] <= table["lat_ns"]) & (table["lat_ns"] < table["lat_high_ns"])).all()


def _jsonplus_bins(fio_run, job, direction) -> pd.Series:
    bins = fio_run.jobs[job][direction]["clat_ns"]["bins"]
    return pd.Series({int(k): v for k, v in bins.items()}).sort_index()


@pytest.mark.parametrize("direction", ["read", "write"])
def test_fine_bin_values_are_the_json_plus_bin_values(fio_run, direction):
    """fio names json+ bins by plat_idx_to_val; our lat_ns must land on those same values."""
    table = read_hist_log(fio_run.log("hist0", "clat_hist"))
    logged = table[table["direction"] == direction].groupby("lat_ns")["count"].sum()
    jsonplus = _jsonplus_bins(fio_run, "hist0", direction)
    assert set(logged.index.astype(np.int64)) <= set(jsonplus.index)
    # The log holds full intervals only (fio does not flush the last partial one): counts <= totals.
    assert (logged.to_numpy() <= jsonplus[logged.index.astype(np.int64)].to_numpy()).all()
    assert logged.sum() > 0.5 * jsonplus.sum()


@pytest.mark.parametrize("direction", ["read", "write"])
def test_coarse_bins_contain_the_json_plus_latencies(fio_run, direction):
    table = read_hist_log(fio_run.log("hist3", "clat_hist"))
    logged = table[table["direction"] == direction].groupby("bin")["count"].sum()
    jsonplus = _jsonplus_bins(fio_run, "hist3", direction)
    edges = hist_bin_edges_ns(3)
    coarse_bin = np.searchsorted(edges["lat_high_ns"].to_numpy(), jsonplus.index.to_numpy(), side="right")
    per_bin = jsonplus.groupby(coarse_bin).sum()
    assert set(logged.index) <= set(per_bin.index)
    assert (logged.to_numpy() <= per_bin[logged.index].to_numpy()).all()


def test_bin_edges_follow_fio_plat_idx_to_val():
    edges = hist_bin_edges_ns(0)
    assert len(edges) == FIO_PLAT_NR
    low, high = edges["lat_low_ns"].to_numpy(), edges["lat_high_ns"].to_numpy()
    assert (low[1:] == high[:-1]).all()  # contiguous, no gaps
    # below 128 ns every value has its own bin; group 2 starts at 128 ns with 2 ns bins
    assert (low[:128] == np.arange(128)).all() and (high[128] - low[128]) == 2
    assert high[-1] == 1 << 34
    for c in range(7):
        coarse = hist_bin_edges_ns(c)
        assert len(coarse) == FIO_PLAT_NR >> c
        assert coarse["lat_low_ns"].iloc[0] == 0 and coarse["lat_high_ns"].iloc[-1] == 1 << 34
    with pytest.raises(UsageError, match=r"^coarseness=7: expected an integer from 0 to 6$"):
        hist_bin_edges_ns(7)


def test_histogram_log_with_a_bin_count_fio_does_not_write(fio_run, tmp_path):
    path = _copy(fio_run.log("hist3", "clat_hist"), tmp_path)
    lines = path.read_text().splitlines()
    path.write_text("\n".join(line + ", 0" for line in lines) + "\n")
    with pytest.raises(FioFormatError) as err:
        read_hist_log(path)
    assert str(err.value) == (
        f"fio histogram log {path} line 1: expected 3 leading fields and 1856, 928, 464, 232, 116, 58, 29 "
        "bins (1856 >> log_hist_coarseness, fio 3.x), found 233 bins"
    )


def test_histogram_log_bad_count_and_bad_direction(fio_run, tmp_path):
    path = _copy(fio_run.log("hist3", "clat_hist"), tmp_path)
    _rewrite_line(path, 2, lambda f: [*f[:10], "n/a", *f[11:]])
    with pytest.raises(FioFormatError) as err:
        read_hist_log(path)
    assert str(err.value) == f"fio histogram log {path} line 2 field 11 (bin 7): expected an integer of at most 19 digits, found 'n/a'"
    path = _copy(fio_run.log("hist3", "clat_hist"), tmp_path, "other_clat_hist.1.log")
    _rewrite_line(path, 3, lambda f: [f[0], "5", *f[2:]])
    with pytest.raises(FioFormatError) as err:
        read_hist_log(path)
    assert str(err.value) == (
        f"fio histogram log {path} line 3 field 2 (ddir): expected 0 (read), 1 (write) or 2 (trim), found '5'"
    )


def test_histogram_log_row_with_missing_bins(fio_run, tmp_path):
    path = _copy(fio_run.log("hist0", "clat_hist"), tmp_path)
    _rewrite_line(path, 2, lambda f: f[:-1])
    with pytest.raises(FioFormatError) as err:
        read_hist_log(path)
    assert str(err.value) == (
        f"fio histogram log {path} line 2: expected 1859 comma-separated fields "
        "(time_ms, ddir, bs_bytes and 1856 bins) as on line 1, found 1858"
    )


# --- pgrant-lab ingest on logs (the CLI dispatches logs to this module) --------------------------

SCRIPT = str(Path(sys.executable).with_name("pgrant-lab"))


def _ingest(*args) -> subprocess.CompletedProcess:
    return subprocess.run([SCRIPT, "ingest", *map(str, args)], capture_output=True, text=True, timeout=60)


def test_ingest_prints_a_log_as_csv(fio_run):
    path = fio_run.log("offset", "clat")
    proc = _ingest(path)
    assert proc.returncode == 0, proc.stderr
    printed = pd.read_csv(io.StringIO(proc.stdout))
    table = read_log(path)
    assert list(printed.columns) == list(table.columns)
    for column in ("time_ms", "clat_ns", "bs_bytes", "offset_bytes", "prio_rt"):
        assert printed[column].tolist() == table[column].tolist()
    assert printed["direction"].tolist() == table["direction"].astype(str).tolist()
    assert set(printed["metric"]) == {"clat"} and set(printed["source"]) == {str(path)}


def test_ingest_concatenates_logs_and_histogram_logs_with_their_source(fio_run):
    paths = [fio_run.log("plain", "clat"), fio_run.log("trim", "clat")]
    printed = pd.read_csv(io.StringIO(_ingest(*paths).stdout))
    assert printed.groupby("source", sort=False).size().to_dict() == {str(p): len(read_log(p)) for p in paths}
    hist = fio_run.log("hist3", "clat_hist")
    printed = pd.read_csv(io.StringIO(_ingest(hist).stdout))
    table = read_hist_log(hist)
    assert list(printed.columns) == list(table.columns)
    assert printed["count"].tolist() == table["count"].tolist()
    assert printed["lat_ns"].tolist() == table["lat_ns"].tolist()


def test_ingest_of_an_empty_log_prints_the_header_only(fio_run):
    proc = _ingest(fio_run.log("plain", "slat"))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "time_ms,slat_ns,direction,bs_bytes,source,metric"


def test_ingest_of_a_bad_log_exits_2_with_one_line(fio_run, tmp_path):
    path = _copy(fio_run.log("plain", "clat"), tmp_path)
    _rewrite_line(path, 3, lambda f: [f[0], "12x4", *f[2:]])
    proc = _ingest(path)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr == (
        f"pgrant-lab ingest: fio log {path} line 3 field 2 (value): expected an integer of at most 19 digits, "
        "found '12x4'\n"
    )


# --- 4-field logs (fio 2.x, 3.0-3.16), their writing version, corrupt histograms -----------------

def _four_field_copy(fio_run, tmp_path: Path, metric: str = "clat") -> Path:
    """fio 3.33's plain log without its priority field: the layout fio 2.x and 3.0-3.16 wrote
    (fio 3.33 cannot write it; the values, times, directions and sizes are fio's own)."""
    dst = tmp_path / f"old_{metric}.1.log"
    lines = fio_run.log("plain", metric).read_text().splitlines()
    dst.write_text("".join(", ".join(line.split(", ")[:4]) + "\n" for line in lines))
    return dst


@pytest.mark.parametrize(("version", "factor", "unit"), [("fio-2.2.10", 1000, "us"), ("3.16", 1, "ns")])
def test_four_field_latency_log_unit_follows_the_given_version(fio_run, tmp_path, version, factor, unit):
    original = read_log(fio_run.log("plain", "clat"))
    table = read_log(_four_field_copy(fio_run, tmp_path), fio_version=version)
    assert list(table.columns) == ["time_ms", "clat_ns", "direction", "bs_bytes", "source", "metric"]
    assert (table["clat_ns"].to_numpy() == original["clat_ns"].to_numpy() * factor).all()
    assert (table["direction"] == original["direction"]).all() and (table["bs_bytes"] == BS_BYTES).all()
    assert table.attrs["value_unit_in_file"] == unit and table.attrs["fio_version"] == version
    assert table.attrs["unit_basis"].startswith("fio_version given by the user")


def test_four_field_log_takes_the_version_of_the_json_beside_it(fio_run, tmp_path):
    log = _four_field_copy(fio_run, tmp_path)
    summary = tmp_path / "summary.json"
    shutil.copyfile(fio_run.folder / "summary.json", summary)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a known version: no warning
        table = read_log(log)
    assert table.attrs["fio_version"] == json.loads(summary.read_text())["fio version"]
    assert table.attrs["value_unit_in_file"] == "ns"
    assert table.attrs["unit_basis"].startswith("fio version of summary.json in the same folder")
    # the same run as if fio 2.18 had written it: the log's values were usec
    older = tmp_path / "older"
    older.mkdir()
    text = summary.read_text().replace(f'"{table.attrs["fio_version"]}"', '"fio-2.18-59-g618e"')
    (older / "summary.json").write_text(text)
    log_older = older / log.name
    shutil.copyfile(log, log_older)
    usec = read_log(log_older)
    assert usec.attrs["fio_version"] == "fio-2.18-59-g618e" and usec.attrs["value_unit_in_file"] == "us"
    assert (usec["clat_ns"].to_numpy() == table["clat_ns"].to_numpy() * 1000).all()


def test_four_field_latency_log_of_unknown_version_says_ns_was_assumed(fio_run, tmp_path):
    log = _four_field_copy(fio_run, tmp_path)
    with pytest.warns(FioUnitWarning, match=r"assumed its values are in ns \(fio 3\.0-3\.16\) .* no fio JSON output "
                                            r"with a fio version is in the same folder; pass fio_version= to say which"):
        table = read_log(log)
    assert table.attrs["fio_version"] is None and table.attrs["value_unit_in_file"] == "ns"
    assert (table["clat_ns"].to_numpy() == read_log(fio_run.log("plain", "clat"))["clat_ns"].to_numpy()).all()
    # two runs of different versions beside it: no single version, so still assumed
    for name, version in (("a.json", "fio-2.2.10"), ("b.json", "fio-3.1")):
        (tmp_path / name).write_text((fio_run.folder / "summary.json").read_text().replace(
            json.loads((fio_run.folder / "summary.json").read_text())["fio version"], version))
    with pytest.warns(FioUnitWarning, match=r"disagree \(fio-2\.2\.10, fio-3\.1\)"):
        read_log(log)


def test_four_field_bw_log_needs_no_version(fio_run, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table = read_log(_four_field_copy(fio_run, tmp_path, "bw"))
    assert (table["bw_kib_s"].to_numpy() == read_log(fio_run.log("plain", "bw"))["bw_kib_s"].to_numpy()).all()
    assert table.attrs["value_unit_in_file"] == "KiB/s"


def test_a_version_that_is_not_one_is_a_usage_error(fio_run, tmp_path):
    with pytest.raises(UsageError, match=r"^fio_version='latest': expected a fio version such as 'fio-3\.16' or '2\.2\.10'$"):
        read_log(_four_field_copy(fio_run, tmp_path), fio_version="latest")


def test_histogram_count_of_2_31_minus_1_is_corrupt(fio_run, tmp_path):
    path = _copy(fio_run.log("hist0", "clat_hist"), tmp_path)
    _rewrite_line(path, 2, lambda f: [*f[:40], "2147483647", *f[41:]])
    with pytest.raises(FioFormatError) as err:
        read_hist_log(path)
    assert str(err.value) == (
        f"fio histogram log {path} line 2 field 41 (bin 37): expected a count below 2147483647 (2^31 - 1) "
        "I/Os in one interval, found 2147483647 (a corrupt histogram)"
    )
    _rewrite_line(path, 2, lambda f: [*f[:40], "2147483646", *f[41:]])
    assert read_hist_log(path)["count"].max() == 2147483646  # below the limit: fio's 32-bit range


def test_histogram_with_more_ios_than_the_run_did_is_corrupt(fio_run, tmp_path):
    path = fio_run.log("hist0", "clat_hist")
    table = read_hist_log(path)
    logged = int(table["count"].sum())
    job = fio_run.jobs["hist0"]
    run_ios = job["read"]["total_ios"] + job["write"]["total_ios"]
    assert logged <= run_ios  # fio leaves out the last partial interval
    assert len(read_hist_log(path, run_ios=run_ios)) == len(table)
    last_line = len([line for line in path.read_text().splitlines() if line.strip()])
    with pytest.raises(FioFormatError) as err:
        read_hist_log(path, run_ios=logged - 1)
    assert str(err.value) == (
        f"fio histogram log {path} line {last_line}: expected at most run_ios={logged - 1} I/Os in all "
        f"(the run's completed I/Os), found {logged} by this line"
    )
