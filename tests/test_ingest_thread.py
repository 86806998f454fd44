"""analysis.ingest.thread: the 2012 thread's digitized figures, and one sentence for a broken file."""

from pathlib import Path

import pandas as pd
import pytest

from analysis import paths
from analysis.errors import PgrantLabError
from analysis.ingest import thread

DATA = Path(__file__).resolve().parents[1] / "data"


def test_the_bundled_seed_points_are_the_threads_headline():
    assert thread.seed_points(DATA) == {"n_peak": 5, "x_peak": 650_000.0, "n_later": 10, "x_later": 400_000.0,
                                        "dom0_vcpus": 24}


def _claims_dir(tmp_path, text):
    path = tmp_path / paths.THREAD_CLAIMS_FILE
    path.parent.mkdir(parents=True)
    path.write_text(text)
    return path


def test_load_thread_claims_names_the_missing_column(tmp_path):
    path = _claims_dir(tmp_path, "claim_id,date_utc,author,excerpt\nx,2012-09-19 10:51,A,q\n")
    with pytest.raises(PgrantLabError, match=f"^{path}: expected columns claim_id, date_utc, author, "
                                             "builds_on, excerpt, missing builds_on$"):
        thread.load_thread_claims(tmp_path)


def test_load_thread_claims_names_an_unknown_builds_on(tmp_path):
    path = _claims_dir(tmp_path, "claim_id,date_utc,author,builds_on,excerpt\nx,2012-09-19 10:51,A,nope,q\n")
    with pytest.raises(PgrantLabError, match=f"^{path}: field builds_on: expected a claim_id of this file, "
                                             "found 'nope'$"):
        thread.load_thread_claims(tmp_path)


def test_seed_points_needs_one_peak_and_one_later_row(tmp_path):
    path = tmp_path / paths.SCALING_FILE
    path.parent.mkdir(parents=True)
    scaling = pd.read_csv(DATA / paths.SCALING_FILE)
    scaling["peak"] = True
    scaling.to_csv(path, index=False)
    with pytest.raises(PgrantLabError, match=f"^{path}: field peak: expected one true and one false row, "
                                             "found 2 true and 0 false$"):
        thread.seed_points(tmp_path)
