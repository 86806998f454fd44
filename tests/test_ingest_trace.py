"""analysis.ingest.trace readers, analysis.collect.trace_convert and the blkfront model on traces fio wrote in this session.

Inputs: fio's own iolog (version 3) and per-I/O lat log of one job run here (tests/trace_session.py).
The version 2 iolog is the version 3 file with its time column removed (fio 3.33 writes only
version 3); the MSR CSV and the blkparse text are the lat log converted (the blkparse text is
printed by the real blkparse from a binary blktrace file, since blktrace cannot run in this guest:
see analysis/trace_convert.py). Bad inputs are those files corrupted in tmp_path.
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest

from analysis.cli import main
from analysis.constants import PAGE_BYTES, SEGMENTS_PER_REQUEST
from analysis.errors import TraceFormatError, UsageError
from analysis.ingest.fiolog import read_log
from analysis.xen.grants import pool
from analysis.xen.grants.blkfront import (
    blkif_from_requests,
    completion_order,
    in_flight,
    ring_requests,
    trace_from_requests,
)
from analysis.xen.grants.copy import GrantCopy
from analysis.xen.grants.frontend import POLICIES_311, pool_pages_311, simulate_blkif
from analysis.xen.grants.policies import NonPersistent, PersistentArray, PersistentTree
from analysis.ingest.trace import device_table, read_blkparse, read_fio_iolog, read_msr, read_trace
from analysis.ingest.trace import fio_lat_log_table
from analysis.collect.trace_convert import to_blkparse_text, to_msr_csv
from tests.fio_session import shm_dir  # noqa: F401 - session fixture
from tests.trace_session import recorded_trace  # noqa: F401 - session fixture

pytestmark = pytest.mark.slow
REQUEST_KEY = ["offset_bytes", "bytes", "is_write"]


def _sorted_requests(table: pd.DataFrame) -> pd.DataFrame:
    return table[REQUEST_KEY].sort_values(REQUEST_KEY).reset_index(drop=True)


@pytest.fixture(scope="module")
def lat_table(recorded_trace):
    return fio_lat_log_table(read_log(recorded_trace.lat_log), "7,0")


@pytest.fixture(scope="module")
def converted(recorded_trace, lat_table, tmp_path_factory):
    folder = tmp_path_factory.mktemp("converted")
    msr = to_msr_csv(lat_table, folder / "kvmguest_0.csv")
    blk = to_blkparse_text(lat_table, folder / "trace.blkparse.txt") if shutil.which("blkparse") else None
    return {"msr": msr, "blkparse": blk}


def test_fio_iolog_v3_gives_the_requests_of_fios_own_lat_log(recorded_trace, lat_table):
    table = read_fio_iolog(recorded_trace.iolog)
    assert table.attrs["skipped"]["version"] == 3
    # bssplit's four sizes, and shorter ones where fio truncates an I/O at the end of the file.
    assert len(table) > 500 and {4096, 16384, 65536, 262144} <= set(table["bytes"])
    assert (table["bytes"] % 4096 == 0).all() and table["bytes"].max() == 262144
    assert 0.3 < table["is_write"].mean() < 0.5  # rwmixread=60
    assert table["time_us"].iloc[0] == 0 and (np.diff(table["time_us"]) >= 0).all()
    assert table["completion_us"].isna().all()  # fio's iolog has no completion times
    # Two files fio wrote about the same I/Os (the iolog at queueing, the lat log at completion) agree.
    pd.testing.assert_frame_equal(_sorted_requests(table), _sorted_requests(lat_table))


def test_fio_iolog_v2_reads_the_same_requests_in_order(recorded_trace, tmp_path):
    lines = recorded_trace.iolog.read_text().splitlines()
    v2 = tmp_path / "trace.v2.iolog"
    v2.write_text("\n".join(["fio version 2 iolog"] + [line.split(" ", 1)[1] for line in lines[1:]]) + "\n")
    v3_table, v2_table = read_fio_iolog(recorded_trace.iolog), read_trace(v2, "fio-iolog")
    assert v2_table.attrs["skipped"]["version"] == 2
    pd.testing.assert_frame_equal(v2_table[REQUEST_KEY + ["device"]], v3_table[REQUEST_KEY + ["device"]])
    assert (v2_table["time_us"] == np.arange(len(v2_table))).all()  # version 2 has order, no times


def test_fio_lat_log_gives_arrivals_before_completions(recorded_trace, lat_table):
    table = read_trace(recorded_trace.lat_log, "fio-lat-log")
    assert table.attrs["format"] == "fio-lat-log" and (table["device"] == "trace").all()
    pd.testing.assert_frame_equal(table[REQUEST_KEY], lat_table[REQUEST_KEY])
    assert table["time_us"].min() == 0 and (table["completion_us"] >= table["time_us"]).all()
    steps_ms = (table["completion_us"] - table["completion_us"].iloc[0]) / 1000
    assert np.allclose(steps_ms, np.round(steps_ms)) and steps_ms.max() >= 1  # fio logs completions in whole ms
    plain = recorded_trace.folder / "trace_clat.1.log"  # has offsets too, but not total latency: wrong metric
    with pytest.raises(TraceFormatError, match=r"expected .*lat log"):
        read_trace(plain, "fio-lat-log")


def test_msr_csv_round_trip_keeps_requests_and_times_to_a_filetime_tick(lat_table, converted):
    table = read_msr(converted["msr"])
    assert (table["device"] == "kvmguest_0").all()
    assert (table[REQUEST_KEY].to_numpy() == lat_table[REQUEST_KEY].to_numpy()).all()
    for column in ("time_us", "completion_us"):
        assert np.abs(table[column] - lat_table[column]).max() <= 0.1  # one 100 ns tick


def test_msr_csv_with_a_header_row_reads_the_same(converted, tmp_path):
    with_header = tmp_path / "with-header.csv"
    with_header.write_text("Timestamp,Hostname,DiskNumber,Type,Offset,Size,ResponseTime\n" + converted["msr"].read_text())
    pd.testing.assert_frame_equal(read_msr(with_header), read_msr(converted["msr"]))


def test_blkparse_text_from_the_real_blkparse_gives_arrivals_and_completions(lat_table, converted):
    if converted["blkparse"] is None:
        pytest.fail("blkparse is not on PATH (Debian: apt-get install blktrace; .ci/run installs it)")
    text = converted["blkparse"].read_text()
    assert " D   R " in text and " C   W " in text and "CPU0 (trace):" in text  # blkparse's own layout
    table = read_trace(converted["blkparse"], "blkparse")
    assert (table["device"] == "7,0").all()
    assert table.attrs["skipped"]["Q"] == len(lat_table)
    pd.testing.assert_frame_equal(_sorted_requests(table), _sorted_requests(lat_table))
    # Times: nanoseconds in the binary file, printed by blkparse to the nanosecond.
    order = np.lexsort((table["offset_bytes"], table["time_us"]))
    ref = np.lexsort((lat_table["offset_bytes"], lat_table["time_us"]))
    assert np.allclose(table["time_us"].to_numpy()[order], lat_table["time_us"].to_numpy()[ref], atol=0.002)
    assert np.allclose(table["completion_us"].to_numpy()[order], lat_table["completion_us"].to_numpy()[ref],
                       atol=0.002)


def _corrupt(src, tmp_path, lineno, edit, name="bad"):
    lines = src.read_text().splitlines()
    lines[lineno - 1] = edit(lines[lineno - 1])
    bad = tmp_path / name
    bad.write_text("\n".join(lines) + "\n")
    return bad


def test_bad_fio_iolog_lines_give_one_sentence(recorded_trace, tmp_path):
    iolog = recorded_trace.iolog
    lines = iolog.read_text().splitlines()
    k = next(i for i, line in enumerate(lines, start=1) if " read " in line or " write " in line)
    bad = _corrupt(iolog, tmp_path, k, lambda s: s.rsplit(" ", 2)[0] + " 12x4 4096")
    with pytest.raises(TraceFormatError, match=rf"^{bad}: line {k}, field offset: expected an integer >= 0, "
                                                r"found '12x4'$"):
        read_fio_iolog(bad)
    bad = _corrupt(iolog, tmp_path, k, lambda s: s.replace(" read ", " reed ").replace(" write ", " reed "))
    with pytest.raises(TraceFormatError, match=rf"line {k}, field action: expected one of read, write, .*found 'reed'"):
        read_fio_iolog(bad)
    bad = _corrupt(iolog, tmp_path, 1, lambda s: "fio version 9 iolog")
    with pytest.raises(TraceFormatError, match=r"line 1, field header: expected 'fio version 2 iolog' or "
                                               r"'fio version 3 iolog', found 'fio version 9 iolog'"):
        read_fio_iolog(bad)
    bad = _corrupt(iolog, tmp_path, k, lambda s: s.rsplit(" ", 1)[0])
    with pytest.raises(TraceFormatError, match=rf"line {k}, field offset and length: expected 5 fields"):
        read_fio_iolog(bad)


def test_bad_msr_and_blkparse_lines_give_one_sentence(converted, tmp_path):
    bad = _corrupt(converted["msr"], tmp_path, 3, lambda s: s.replace(",Read,", ",Rd,").replace(",Write,", ",Rd,"))
    with pytest.raises(TraceFormatError, match=rf"^{bad}: line 3, field Type: expected Read or Write, found 'Rd'$"):
        read_msr(bad)
    bad = _corrupt(converted["msr"], tmp_path, 2, lambda s: s.rsplit(",", 1)[0])
    with pytest.raises(TraceFormatError, match=r"line 2, field fields: expected 7 comma-separated fields"):
        read_msr(bad)
    if converted["blkparse"] is None:
        pytest.fail("blkparse is not on PATH")
    bad = _corrupt(converted["blkparse"], tmp_path, 4, lambda s: s.replace(" + ", " plus "), name="bad.txt")
    with pytest.raises(TraceFormatError, match=r"line 4, field (event|sector range): expected"):
        read_blkparse(bad)
    bad = _corrupt(converted["blkparse"], tmp_path, 5, lambda s: "7;0 garbage", name="bad2.txt")
    with pytest.raises(TraceFormatError, match=r"line 5, field event: expected 'MAJ,MIN CPU SEQ SECONDS PID ACTION "
                                               r"RWBS \.\.\.' as blkparse prints, found '7;0 garbage'"):
        read_blkparse(bad)


def test_ring_requests_split_into_pages_and_at_most_max_segments():
    table = pd.DataFrame({"time_us": [0.0, 1.0, 2.0], "device": "d", "offset_bytes": [0, 0, 0],
                          "bytes": [512, 100 * 1024, 256 * 1024], "is_write": [False, True, False],
                          "completion_us": np.nan})
    ring = ring_requests(table, max_segments=SEGMENTS_PER_REQUEST)
    # 512 B -> 1 page; 100 KiB -> 25 pages -> 11, 11, 3; 256 KiB -> 64 pages -> 5 x 11 + 9.
    assert ring["segments"].tolist() == [1, 11, 11, 3, 11, 11, 11, 11, 11, 9]
    assert ring["request"].tolist() == [0, 1, 1, 1, 2, 2, 2, 2, 2, 2]
    assert ring_requests(table, max_segments=32)["segments"].tolist() == [1, 25, 32, 32]
    with pytest.raises(UsageError, match=r"^max_segments: expected 1 to 4096 .* found 4097"):
        ring_requests(table, max_segments=4097)


def _queue_by_brute_force(time_us, completion_us, slots):
    """complete_before by walking time: who has completed when each request arrives, FIFO, <= slots in flight."""
    n = len(time_us)
    done = np.full(n, n)
    oldest = 0
    completions = np.maximum.accumulate(completion_us)  # FIFO: not before any earlier request
    for k in range(n):
        while oldest < k and (completions[oldest] <= time_us[k] or k - oldest >= slots):
            done[oldest] = k
            oldest += 1
    return done


def test_completion_order_matches_a_queue_walked_by_hand():
    rng = np.random.default_rng(5)
    time_us = np.cumsum(rng.exponential(10.0, 400))
    completion_us = time_us + rng.exponential(60.0, 400)
    for slots in (1, 4, 32):
        got = completion_order(time_us, completion_us, depth=1, slots=slots)
        assert (got == _queue_by_brute_force(time_us, completion_us, slots)).all()


def test_trace_from_requests_is_the_pool_generator_for_full_requests():
    # 300 requests of 11 pages each with 32 in flight and no completion times: blkfront's pool with a full ring.
    n = 300
    table = pd.DataFrame({"time_us": np.arange(n, dtype=float), "device": "d", "offset_bytes": 0,
                          "bytes": SEGMENTS_PER_REQUEST * PAGE_BYTES, "is_write": False, "completion_us": np.nan})
    trace = trace_from_requests(table, slots=32, depth=64)  # depth past the ring: capped at 32 slots
    reference = pool(n, slots=32)
    assert (trace.grefs == reference.grefs).all() and (trace.complete_before == reference.complete_before).all()
    assert in_flight(trace).max() == 32


def test_recorded_trace_through_blkfront_keeps_grants_bounded_by_what_is_in_flight(recorded_trace, lat_table):
    trace = trace_from_requests(lat_table, slots=32, max_segments=SEGMENTS_PER_REQUEST)
    pages = -(-lat_table["bytes"] // PAGE_BYTES)
    assert int(trace.segments.sum()) == int(pages.sum())
    assert trace.requests == int((-(-pages // SEGMENTS_PER_REQUEST)).sum())
    flight = in_flight(trace)
    assert 1 < flight.max() <= 32
    # The LIFO pool grants a new page only when its free list is empty: distinct grefs <= most pages in flight.
    starts = trace.offsets
    held = [int(starts[k + 1] - starts[max(0, k - f + 1)]) for k, f in enumerate(flight)]
    assert len(np.unique(trace.grefs)) <= max(held)


def _full_requests(n: int, pages: int) -> pd.DataFrame:
    return pd.DataFrame({"time_us": np.arange(n, dtype=float), "device": "d", "offset_bytes": 0,
                         "bytes": pages * PAGE_BYTES, "is_write": False, "completion_us": np.nan})


@pytest.mark.parametrize("policy", [PersistentTree(cap=300, fallback="gref"), PersistentArray(cap=2000),
                                    PersistentTree(cap=150, fallback="request"), NonPersistent(), GrantCopy()],
                         ids=lambda p: f"{p.name}-{getattr(p, 'cap', '')}-{getattr(p, 'fallback', '')}")
@pytest.mark.parametrize(("pages", "queues"), [(11, 1), (32, 2), (600, 1)])
def test_blkif_from_requests_is_the_311_generator_for_full_requests(policy, pages, queues):
    # Requests of one size, every ring full (depth past slots x queues): the 3.11 generator's stream.
    n, slots = 400, 8
    got = blkif_from_requests(_full_requests(n, pages), policy, max_segments=pages, slots=slots, queues=queues,
                              depth=10 * slots * queues)
    reference = simulate_blkif(n, policy, slots=slots, segments=pages, queues=queues, seed=1)
    assert (got.trace.grefs == reference.trace.grefs).all()
    assert (got.trace.complete_before == reference.trace.complete_before).all()
    for key in reference.per_request:
        assert (got.per_request[key] == reference.per_request[key]).all(), key


def test_recorded_trace_through_the_311_frontend_maps_each_pool_page_once(recorded_trace, lat_table):
    slots, queues, max_segments = 32, 2, 32
    pages = -(-lat_table["bytes"].to_numpy() // PAGE_BYTES)
    pool_pages = pool_pages_311(slots, max_segments)
    kept = blkif_from_requests(lat_table, PersistentTree(cap=pool_pages, fallback="gref"), max_segments=max_segments,
                               slots=slots, queues=queues)
    r = kept.per_request
    data = kept.trace.segments - r["indirect_pages"]
    assert int(data.sum()) == int(pages.sum()) and data.max() <= max_segments
    assert (r["indirect_pages"] == np.where(data > SEGMENTS_PER_REQUEST, 1, 0)).all()
    assert r["indirect_pages"].sum() > 0  # the 256 KiB requests (64 pages) go as 2 x 32-segment indirect requests
    # Every ring's pool fits under the cap: nothing is ever unmapped and each granted page is mapped once.
    totals = kept.totals()
    assert totals["unmaps"] == 0 and totals["fallback_requests"] == 0
    assert totals["maps"] == len(np.unique(kept.trace.grefs)) <= queues * pool_pages
    assert totals["max_ring_resident_pages"] <= pool_pages
    assert totals["hits"] + totals["maps"] == totals["segments"]
    # Non-persistent: every page is mapped and unmapped once per use, and each completed grant is
    # ended, so the trace claims fresh grefs.
    mapped = blkif_from_requests(lat_table, NonPersistent(), max_segments=max_segments, slots=slots,
                                 queues=queues).totals()
    assert mapped["maps"] == mapped["unmaps"] == mapped["segments"] == totals["segments"]
    assert mapped["hits"] == 0 and mapped["memcpy_bytes"] == 0 and totals["memcpy_bytes"] == int(pages.sum()) * PAGE_BYTES


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


def _cli(capsys, *args):
    code = main(["simulate", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


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


def test_cli_rejects_a_bad_trace_with_one_line(recorded_trace, tmp_path, capsys):
    bad = _corrupt(recorded_trace.iolog, tmp_path, 6, lambda s: s + " extra")
    code, out, err = _cli(capsys, "--trace", bad, "--format", "fio-iolog")
    assert code == 2 and out == "" and err.count("\n") == 1 and f"{bad}: line 6" in err
    code, _, err = _cli(capsys, "--trace", recorded_trace.iolog, "--format", "csv")
    assert code == 2 and "--format: expected one of fio-iolog, blkparse, msr, fio-lat-log with --trace, found 'csv'" in err
    code, _, err = _cli(capsys, "--trace", recorded_trace.iolog, "--format", "msr")
    assert code == 2 and "line 1, field fields" in err
    code, _, err = _cli(capsys, "--trace", recorded_trace.iolog, "--format", "fio-iolog", "--device", "/dev/nope")
    assert code == 2 and "--device: expected one of" in err


def test_device_table_picks_the_busiest_device():
    table = pd.DataFrame({"time_us": [3.0, 1.0, 2.0], "device": ["a", "b", "b"], "offset_bytes": 0, "bytes": 4096,
                          "is_write": False, "completion_us": np.nan})
    one = device_table(table)
    assert one.attrs["device"] == "b" and one["time_us"].tolist() == [1.0, 2.0]


def test_trace_record_never_replaces_a_folder_it_did_not_write(tmp_path):
    from analysis.collect.trace_record import record

    other = tmp_path / "someone-elses"
    other.mkdir()
    (other / "keep.txt").write_text("mine")
    with pytest.raises(UsageError, match=r"expected a new or empty folder, or an earlier python -m "
                                         r"analysis.collect.trace_record output .* nothing was changed"):
        record(other)
    assert (other / "keep.txt").read_text() == "mine" and [p.name for p in tmp_path.iterdir()] == ["someone-elses"]
