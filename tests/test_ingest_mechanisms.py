"""analysis.ingest.mechanisms: the loaders read what the benchmark programs write (fixture
``measured`` in conftest.py) and refuse a broken file with one sentence."""

import numpy as np
import pandas as pd
import pytest

from analysis.collect import mechanisms as mech
from analysis.errors import SamplesFormatError
from analysis.ingest import mechanisms as loaders

MEMCPY_QUICK, LOOKUP_QUICK, UNMAP_QUICK = mech.quick_plans()


def _csv(text: str) -> pd.DataFrame:
    from io import StringIO

    return pd.read_csv(StringIO(text))


@pytest.mark.slow
def test_load_memcpy_gives_times_per_copy_with_units(measured):
    df = loaders.load_memcpy(measured / "memcpy")
    assert {"impl", "layout", "cache", "size_bytes", "copy_ns", "bw_bytes_s"} <= set(df.columns)
    assert set(df["impl"]) == {"c", "numpy"}
    assert set(df["size_bytes"]) == set(MEMCPY_QUICK.sizes_bytes)
    assert np.allclose(df["copy_ns"] * df["copies"], df["elapsed_ns"])
    assert np.allclose(df["bw_bytes_s"] * df["copy_ns"] * 1e-9, df["size_bytes"])
    assert (df["copy_ns"] > 0).all() and np.isfinite(df["copy_ns"]).all()
    assert len(df[df["impl"] == "c"]) == 2 * 2 * len(MEMCPY_QUICK.sizes_bytes) * MEMCPY_QUICK.reps


@pytest.mark.slow
def test_load_lookup_and_unmap_give_tidy_tables(measured):
    lookups = loaders.load_lookup(measured / "gref-lookup")
    assert set(lookups["n_grants"]) == set(LOOKUP_QUICK.n_grants)
    assert np.allclose(lookups["lookup_ns"] * lookups["lookups"], lookups["elapsed_ns"])
    unmaps = loaders.load_unmap(measured / "unmap-shootdown")
    assert np.allclose(unmaps["page_ns"] * unmaps["pages_per_call"], unmaps["call_ns"])
    assert set(unmaps["op"]) == set(UNMAP_QUICK.ops)
    counters = loaders.load_unmap_counters(measured / "unmap-shootdown")
    assert len(counters) == len(UNMAP_QUICK.ops) * len(set(unmaps["remote_threads"])) * len(UNMAP_QUICK.pages_per_call)
    assert "tlb_irqs_per_call" in counters.columns


@pytest.fixture
def lookup_copy(measured, tmp_path):
    folder = tmp_path / "gref-lookup"
    folder.mkdir()
    text = (measured / "gref-lookup" / "samples.csv").read_text()
    return folder, text


@pytest.mark.slow
@pytest.mark.parametrize("edit, message", [
    (lambda t: t.replace("elapsed_ns", "elapsed_us", 1),
     r"expected columns structure, outcome, n, rep, lookups, elapsed_ns, checksum, expected, found .* \(missing elapsed_ns\)"),
    (lambda t: t.split("\n", 1)[0] + "\n",
     "expected at least one sample row, found none"),
])
def test_load_lookup_names_the_missing_piece(lookup_copy, edit, message):
    folder, text = lookup_copy
    (folder / "samples.csv").write_text(edit(text))
    with pytest.raises(SamplesFormatError, match=f"{folder / 'samples.csv'}: {message}"):
        loaders.load_lookup(folder)


@pytest.mark.slow
@pytest.mark.parametrize("column, value, message", [
    ("elapsed_ns", "-5", "column elapsed_ns, row 2: expected a finite time in ns > 0, found '-5'"),
    ("elapsed_ns", "fast", "column elapsed_ns, row 2: expected a finite time in ns > 0, found 'fast'"),
    ("n", "2.5", "column n, row 2: expected an integer >= 1, found '2.5'"),
    ("checksum", "12345", "column checksum, row 2: expected"),
])
def test_load_lookup_names_the_bad_value(lookup_copy, column, value, message):
    folder, text = lookup_copy
    df = _csv(text).astype(str)
    df.loc[0, column] = value
    df.to_csv(folder / "samples.csv", index=False)
    with pytest.raises(SamplesFormatError, match=message):
        loaders.load_lookup(folder)


def test_missing_samples_file_is_named(tmp_path):
    with pytest.raises(SamplesFormatError, match=f"{tmp_path / 'samples.csv'}: expected a samples CSV, found no such file"):
        loaders.load_unmap(tmp_path)


def test_broken_manifest_is_named(tmp_path):
    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(SamplesFormatError, match="manifest.json: expected JSON, found a syntax error"):
        loaders.load_manifest(tmp_path)


@pytest.mark.slow
def test_provenance_note_names_folder_machine_and_caveats(measured):
    manifest = loaders.load_manifest(measured / "unmap-shootdown")
    note = loaders.provenance_note(manifest, 123)
    assert note.startswith("**Data**: `data/raw/measured-here/unmap-shootdown` (123 samples)")
    assert manifest["machine"]["cpu_model"] in note and "not Xen" in note
    assert all(n in note for n in manifest["notes"])
