"""analysis.collect.trace_convert: a fio lat log converted to an MSR CSV and (through the real
blkparse) to blkparse text reads back as the same requests and times (tests/trace_session.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.ingest.trace import read_msr, read_trace
from tests.fio_session import shm_dir  # noqa: F401 - session fixture
from tests.trace_session import recorded_trace  # noqa: F401 - session fixture
from tests.trace_session import converted, lat_table  # noqa: F401 - module fixtures
from tests.trace_session import REQUEST_KEY, sorted_requests

pytestmark = pytest.mark.slow


def test_msr_csv_round_trip_keeps_requests_and_times_to_a_filetime_tick(lat_table, converted):
    table = read_msr(converted["msr"])
    assert (table["device"] == "kvmguest_0").all()
    assert (table[REQUEST_KEY].to_numpy() == lat_table[REQUEST_KEY].to_numpy()).all()
    for column in ("time_us", "completion_us"):
        assert np.abs(table[column] - lat_table[column]).max() <= 0.1  # one 100 ns tick


def test_blkparse_text_from_the_real_blkparse_gives_arrivals_and_completions(lat_table, converted):
    if converted["blkparse"] is None:
        pytest.fail("blkparse is not on PATH (Debian: apt-get install blktrace; .ci/run installs it)")
    text = converted["blkparse"].read_text()
    assert " D   R " in text and " C   W " in text and "CPU0 (trace):" in text  # blkparse's own layout
    table = read_trace(converted["blkparse"], "blkparse")
    assert (table["device"] == "7,0").all()
    assert table.attrs["skipped"]["Q"] == len(lat_table)
    pd.testing.assert_frame_equal(sorted_requests(table), sorted_requests(lat_table))
    # Times: nanoseconds in the binary file, printed by blkparse to the nanosecond.
    order = np.lexsort((table["offset_bytes"], table["time_us"]))
    ref = np.lexsort((lat_table["offset_bytes"], lat_table["time_us"]))
    assert np.allclose(table["time_us"].to_numpy()[order], lat_table["time_us"].to_numpy()[ref], atol=0.002)
    assert np.allclose(table["completion_us"].to_numpy()[order], lat_table["completion_us"].to_numpy()[ref],
                       atol=0.002)
