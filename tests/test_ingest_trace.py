"""analysis.ingest.trace readers on traces fio wrote in this session (tests/trace_session.py).

The version 2 iolog is the version 3 file with its time column removed (fio 3.33 writes only
version 3); the MSR CSV and the blkparse text are the lat log converted. Bad inputs are those files
corrupted in tmp_path.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.errors import TraceFormatError
from analysis.ingest.trace import device_table, read_blkparse, read_fio_iolog, read_msr, read_trace
from tests.fio_session import shm_dir  # noqa: F401 - session fixture
from tests.trace_session import recorded_trace  # noqa: F401 - session fixture
from tests.trace_session import converted, lat_table  # noqa: F401 - module fixtures
from tests.trace_session import REQUEST_KEY, corrupt, sorted_requests

pytestmark = pytest.mark.slow


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
    pd.testing.assert_frame_equal(sorted_requests(table), sorted_requests(lat_table))


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


def test_msr_csv_with_a_header_row_reads_the_same(converted, tmp_path):
    with_header = tmp_path / "with-header.csv"
    with_header.write_text("Timestamp,Hostname,DiskNumber,Type,Offset,Size,ResponseTime\n" + converted["msr"].read_text())
    pd.testing.assert_frame_equal(read_msr(with_header), read_msr(converted["msr"]))


def test_bad_fio_iolog_lines_give_one_sentence(recorded_trace, tmp_path):
    iolog = recorded_trace.iolog
    lines = iolog.read_text().splitlines()
    k = next(i for i, line in enumerate(lines, start=1) if " read " in line or " write " in line)
    bad = corrupt(iolog, tmp_path, k, lambda s: s.rsplit(" ", 2)[0] + " 12x4 4096")
    with pytest.raises(TraceFormatError, match=rf"^{bad}: line {k}, field offset: expected an integer >= 0, "
                                                r"found '12x4'$"):
        read_fio_iolog(bad)
    bad = corrupt(iolog, tmp_path, k, lambda s: s.replace(" read ", " reed ").replace(" write ", " reed "))
    with pytest.raises(TraceFormatError, match=rf"line {k}, field action: expected one of read, write, .*found 'reed'"):
        read_fio_iolog(bad)
    bad = corrupt(iolog, tmp_path, 1, lambda s: "fio version 9 iolog")
    with pytest.raises(TraceFormatError, match=r"line 1, field header: expected 'fio version 2 iolog' or "
                                               r"'fio version 3 iolog', found 'fio version 9 iolog'"):
        read_fio_iolog(bad)
    bad = corrupt(iolog, tmp_path, k, lambda s: s.rsplit(" ", 1)[0])
    with pytest.raises(TraceFormatError, match=rf"line {k}, field offset and length: expected 5 fields"):
        read_fio_iolog(bad)


def test_bad_msr_and_blkparse_lines_give_one_sentence(converted, tmp_path):
    bad = corrupt(converted["msr"], tmp_path, 3, lambda s: s.replace(",Read,", ",Rd,").replace(",Write,", ",Rd,"))
    with pytest.raises(TraceFormatError, match=rf"^{bad}: line 3, field Type: expected Read or Write, found 'Rd'$"):
        read_msr(bad)
    bad = corrupt(converted["msr"], tmp_path, 2, lambda s: s.rsplit(",", 1)[0])
    with pytest.raises(TraceFormatError, match=r"line 2, field fields: expected 7 comma-separated fields"):
        read_msr(bad)
    if converted["blkparse"] is None:
        pytest.fail("blkparse is not on PATH")
    bad = corrupt(converted["blkparse"], tmp_path, 4, lambda s: s.replace(" + ", " plus "), name="bad.txt")
    with pytest.raises(TraceFormatError, match=r"line 4, field (event|sector range): expected"):
        read_blkparse(bad)
    bad = corrupt(converted["blkparse"], tmp_path, 5, lambda s: "7;0 garbage", name="bad2.txt")
    with pytest.raises(TraceFormatError, match=r"line 5, field event: expected 'MAJ,MIN CPU SEQ SECONDS PID ACTION "
                                               r"RWBS \.\.\.' as blkparse prints, found '7;0 garbage'"):
        read_blkparse(bad)


def test_device_table_picks_the_busiest_device():
    table = pd.DataFrame({"time_us": [3.0, 1.0, 2.0], "device": ["a", "b", "b"], "offset_bytes": 0, "bytes": 4096,
                          "is_write": False, "completion_us": np.nan})
    one = device_table(table)
    assert one.attrs["device"] == "b" and one["time_us"].tolist() == [1.0, 2.0]
