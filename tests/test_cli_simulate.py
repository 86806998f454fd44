"""``pgrant-lab simulate``: the issue's JSON keys and text output, the 3.11 frontend's options, a recorded
trace in each format (tests/trace_session.py; those tests are slow: fio records the trace), and one
line with exit 2 for every bad setting or bad trace."""

from __future__ import annotations

import json

import pytest

from analysis.cli import main
from analysis.constants import PAGE_BYTES
from analysis.ingest.fiolog import read_log
from analysis.xen.grants.frontend import POLICIES_311
from tests.fio_session import shm_dir  # noqa: F401 - session fixture
from tests.trace_session import recorded_trace  # noqa: F401 - session fixture
from tests.trace_session import converted, lat_table  # noqa: F401 - module fixtures
from tests.trace_session import corrupt


def test_cli_prints_the_issue_json_keys(capsys):
    code = main(["simulate", "--policy", "lru", "--slots", "4", "--segments", "11", "--cap", "44",
                 "--workload", "pool", "--requests", "500", "--seed", "1", "--json"])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    keys = {"requests", "maps", "unmaps", "unmap_batches", "lookup_comparisons", "max_mapped_pages",
            "memcpy_bytes", "persistent_requests", "fallback_requests", "failed_requests"}
    assert keys <= out.keys()
    # 4 x 11 pages fit the cap of 44: 44 maps, no unmaps, every request persistent, all pages copied.
    assert (out["requests"], out["maps"], out["unmaps"], out["persistent_requests"]) == (500, 44, 0, 500)
    assert out["memcpy_bytes"] == 500 * 11 * PAGE_BYTES


def test_cli_text_output_and_undefined_hit_rate_as_null(capsys):
    # cap 5 < 11 segments: every request of the fresh workload fails, so no segment is served.
    assert main(["simulate", "--policy", "fail_past_limit", "--cap", "5", "--workload", "fresh",
                 "--requests", "20", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["failed_requests"], out["maps"], out["hit_rate"]) == (20, 0, None)
    assert main(["simulate", "--policy", "non_persistent", "--workload", "phase", "--requests", "50"]) == 0
    lines = dict(line.split(None, 1) for line in capsys.readouterr().out.splitlines())
    assert lines["maps"] == lines["unmaps"] == str(50 * 11) and lines["unmap_batches"] == "50"


@pytest.mark.parametrize("argv, message", [
    (["--policy", "mru"], "pgrant-lab simulate: --policy: expected one of non_persistent, persistent_array, "
                          "persistent_tree, fail_past_limit, lru, linux_lru, grant_copy, patch_2012 or all, found 'mru'"),
    (["--workload", "zipf"], "pgrant-lab simulate: --workload: expected one of pool, fresh, phase, found 'zipf'"),
    (["--cap", "0"], "pgrant-lab simulate: --cap: expected a positive number of pages, found 0"),
    (["--m", "100", "--cap", "10"], "pgrant-lab simulate: --m: expected an integer from 1 to cap=10 "
                                    "(LRU discards cap // M), found 100"),
    (["--slots", "0"], "pgrant-lab simulate: --slots: expected a positive number of ring slots, found 0"),
    (["--seed", "-1"], "pgrant-lab simulate: --seed: expected an integer >= 0 (numpy seeds are non-negative), found -1"),
    (["--policy", "non_persistent", "--cap", "5"], "pgrant-lab simulate: --cap: expected no cap with --policy "
                                                   "non_persistent (it keeps no grants mapped), found --cap 5"),
    (["--policy", "persistent_array", "--m", "3"], "pgrant-lab simulate: --m: expected --m only with --policy lru "
                                                   "(the LRU purge size), found --m 3 with --policy persistent_array"),
])
def test_cli_bad_settings_exit_2_with_one_line(capsys, argv, message):
    assert main(["simulate", "--requests", "10", *argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [message]


def _json(capsys, argv):
    assert main(["simulate", "--requests", "500", "--json", *argv]) == 0
    return json.loads(capsys.readouterr().out)


def test_cli_simulate_accepts_frontend_indirect_queues_and_grant_copy(capsys):
    t = _json(capsys, ["--frontend", "3.11", "--indirect-segments", "32", "--queues", "4", "--policy", "linux_lru",
                       "--cap", "1056"])
    assert (t["frontend"], t["queues"], t["segments_per_request"], t["unmaps"]) == ("3.11", 4, 32, 0)
    t = _json(capsys, ["--policy", "grant_copy"])
    assert t["unmaps"] == 0 and t["copy_ops"] == 500 * 11 and t["frontend"] == "2012"
    t = _json(capsys, ["--frontend", "3.11", "--policy", "grant_copy", "--queues", "2"])
    assert t["unmaps"] == 0 and t["queues"] == 2


@pytest.mark.parametrize("argv, message", [
    (["--frontend", "2013"], "--frontend: expected one of 2012, 3.11, found '2013'"),
    (["--queues", "4"], "--indirect-segments/--queues: expected them only with --frontend 3.11"),
    (["--frontend", "3.11", "--workload", "fresh"], "--workload: expected pool with --frontend 3.11"),
    (["--policy", "grant_copy", "--cap", "10"], "--cap: expected no cap with --policy grant_copy"),
])
def test_cli_simulate_bad_new_options_exit_2(capsys, argv, message):
    assert main(["simulate", "--requests", "10", *argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]


def _cli(capsys, *args):
    code = main(["simulate", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.slow
def test_cli_simulates_a_trace_through_the_311_frontend(recorded_trace, capsys):
    code, out, err = _cli(capsys, "--trace", recorded_trace.lat_log, "--format", "fio-lat-log", "--frontend", "3.11",
                          "--indirect-segments", "32", "--queues", "2", "--policy", "all", "--json")
    assert code == 0, err
    rows = json.loads(out)
    assert tuple(r["policy"] for r in rows) == POLICIES_311
    assert len({r["segments"] for r in rows}) == 1 and rows[0]["indirect_pages"] > 0
    assert all(r["frontend"] == "3.11" and r["queues"] == 2 and r["completion_times"] for r in rows)
    assert rows[0]["trace_requests"] == len(read_log(recorded_trace.lat_log))
    code, _, err = _cli(capsys, "--trace", recorded_trace.lat_log, "--format", "fio-lat-log", "--frontend", "3.11",
                        "--policy", "lru")
    # The library names its parameter ("policy: ..."); the CLI says the flag.
    assert code == 2 and err == ("pgrant-lab simulate: --policy: expected one of non_persistent, grant_copy, "
                                 "persistent_array, persistent_tree, linux_lru with the 3.11 frontend, found 'lru'\n")


@pytest.mark.slow
def test_cli_simulates_a_trace_in_each_format(recorded_trace, converted, capsys):
    sources = [(recorded_trace.iolog, "fio-iolog"), (converted["msr"], "msr"), (converted["blkparse"], "blkparse"),
               (recorded_trace.lat_log, "fio-lat-log")]
    segments = {}
    for path, fmt in sources:
        code, out, err = _cli(capsys, "--trace", path, "--format", fmt, "--policy", "all", "--json")
        assert code == 0, err
        rows = json.loads(out)
        assert [r["policy"] for r in rows] == ["non_persistent", "persistent_array", "persistent_tree",
                                               "fail_past_limit", "lru", "linux_lru", "grant_copy", "patch_2012"]
        assert len({r["segments"] for r in rows}) == 1 and rows[0]["maps"] == rows[0]["segments"]
        assert rows[0]["completion_times"] == (fmt != "fio-iolog")
        segments[fmt] = rows[0]["segments"]
    assert len(set(segments.values())) == 1  # the same I/Os whichever file they came from
    code, out, _ = _cli(capsys, "--trace", recorded_trace.iolog, "--format", "fio-iolog", "--policy", "lru")
    assert code == 0 and "hit_rate" in out and "trace_requests" in out


@pytest.mark.slow
def test_cli_prints_the_same_311_trace_totals_with_either_engine(recorded_trace, capsys):
    printed = []
    for engine in ("python", "compiled"):
        assert main(["simulate", "--trace", str(recorded_trace.lat_log), "--format", "fio-lat-log", "--frontend",
                     "3.11", "--indirect-segments", "32", "--policy", "all", "--engine", engine, "--json"]) == 0
        printed.append(capsys.readouterr().out)
    assert printed[0] == printed[1] and '"lookup_comparisons"' in printed[0]


def test_cli_rejects_a_bad_trace_with_one_line(recorded_trace, tmp_path, capsys):
    bad = corrupt(recorded_trace.iolog, tmp_path, 6, lambda s: s + " extra")
    code, out, err = _cli(capsys, "--trace", bad, "--format", "fio-iolog")
    assert code == 2 and out == "" and err.count("\n") == 1 and f"{bad}: line 6" in err
    code, _, err = _cli(capsys, "--trace", recorded_trace.iolog, "--format", "csv")
    assert code == 2 and "--format: expected one of fio-iolog, blkparse, msr, fio-lat-log with --trace, found 'csv'" in err
    code, _, err = _cli(capsys, "--trace", recorded_trace.iolog, "--format", "msr")
    assert code == 2 and "line 1, field fields" in err
    code, _, err = _cli(capsys, "--trace", recorded_trace.iolog, "--format", "fio-iolog", "--device", "/dev/nope")
    assert code == 2 and "--device: expected one of" in err
