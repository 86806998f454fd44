"""analysis.ingest.bundle: the verdicts' raw inputs are read once into tables; a broken file is named."""

import shutil
from pathlib import Path

import pytest

from analysis import paths
from analysis.errors import PgrantLabError
from analysis.ingest import bundle, mechanisms, thread

DATA = Path(__file__).resolve().parents[1] / "data"


def test_load_bundled_holds_what_each_reader_returns():
    inputs = bundle.load_bundled(DATA)
    assert inputs.claims.equals(thread.load_thread_claims(DATA))
    assert inputs.memory_claims.equals(thread.load_memory_claims(DATA))
    assert inputs.seed == thread.seed_points(DATA)
    for measured, folder, load in ((inputs.unmap, paths.UNMAP_DIR, mechanisms.load_unmap),
                                   (inputs.memcpy, paths.MEMCPY_DIR, mechanisms.load_memcpy),
                                   (inputs.lookup, paths.LOOKUP_DIR, mechanisms.load_lookup)):
        assert measured.folder == DATA / folder
        assert measured.samples.equals(load(DATA / folder))
        assert measured.manifest == mechanisms.load_manifest(DATA / folder)
    assert inputs.claims_path == DATA / paths.THREAD_CLAIMS_FILE


def test_a_missing_input_is_one_sentence_naming_the_file(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(DATA / paths.RAW, data / paths.RAW)
    (data / paths.SCALING_FILE).unlink()
    with pytest.raises(PgrantLabError, match=r"iops-vs-guests\.csv: expected the digitized scaling points, found no such file$"):
        bundle.load_bundled(data)
