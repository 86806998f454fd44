"""analysis.collect.trace_record: the recorder never replaces a folder it did not write."""

from __future__ import annotations

import pytest

from analysis.errors import UsageError

pytestmark = pytest.mark.slow


def test_trace_record_never_replaces_a_folder_it_did_not_write(tmp_path):
    from analysis.collect.trace_record import record

    other = tmp_path / "someone-elses"
    other.mkdir()
    (other / "keep.txt").write_text("mine")
    with pytest.raises(UsageError, match=r"expected a new or empty folder, or an earlier python -m "
                                         r"analysis.collect.trace_record output .* nothing was changed"):
        record(other)
    assert (other / "keep.txt").read_text() == "mine" and [p.name for p in tmp_path.iterdir()] == ["someone-elses"]
