"""analysis.ingest.experiment: manifest validation (one line per problem) and ingestion of real fio output."""

import re
import shutil

import numpy as np
import pandas as pd
import pytest

from analysis.ingest import experiment
from analysis.errors import ManifestError, UsageError


def _folder(tmp_path, manifest: str, files=()):
    folder = tmp_path / "exp"
    folder.mkdir()
    (folder / "manifest.csv").write_text(manifest)
    for name in files:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text("{}")
    return folder


def _problems(folder):
    with pytest.raises(ManifestError) as info:
        experiment.validate(folder)
    return str(info.value).splitlines()


def test_missing_folder_and_missing_manifest_are_one_line_each(tmp_path):
    assert _problems(tmp_path / "nope") == [
        f"{tmp_path / 'nope'}: expected an experiment folder holding manifest.csv, found nothing"]
    (tmp_path / "empty").mkdir()
    [line] = _problems(tmp_path / "empty")
    assert line.startswith(f"{tmp_path / 'empty' / 'manifest.csv'}: expected a manifest") and "found no such file" in line


def test_every_bad_row_is_reported_on_its_own_line_naming_line_column_expected_and_found(tmp_path):
    folder = _folder(tmp_path, "\n".join([
        "file,mode,guests,dom0_vcpus,bs,ring_order,run",
        "a.json,persistent,1,24,4k,0,1",        # line 2: fine
        "b.json,persistant,two,24,4k,0,1",       # line 3: mode and guests
        "missing.json,persistent,3,0,4q,9,1",    # line 4: file, dom0_vcpus, bs, ring_order
        "a.json,persistent,1,24,4k,0,2",         # line 5: file again
        "c.json,persistent,1,24,4k,0,1",         # line 6: same conditions as line 2
        "../outside.json,persistent,1,24,4k,0,3",  # line 7: escapes the folder
        "d.json,persistent,1",                   # line 8: too few fields
    ]) + "\n", files=["a.json", "b.json", "c.json", "d.json"])
    m = str(folder / "manifest.csv")
    assert _problems(folder) == [
        f"{m} line 3, column mode: expected one of persistent, non-persistent, found 'persistant'",
        f"{m} line 3, column guests: expected a positive integer, found 'two'",
        f"{m} line 4, column file: expected an existing fio output file, found no 'missing.json' in {folder}",
        f"{m} line 4, column dom0_vcpus: expected a positive integer, found '0'",
        f"{m} line 4, column ring_order: expected an integer 0..4 (ring of 2**order pages), found '9'",
        f"{m} line 4, column bs: expected a block size such as 4k, 64k or 4096, found '4q'",
        f"{m} line 5, column file: expected each file once, found 'a.json' again (first on line 2)",
        f"{m} line 6: expected each run's conditions once, found the same conditions as line 2; "
        "add a 'run' column for repeats (or 'guest' when each guest wrote its own file)",
        f"{m} line 7, column file: expected a path inside the experiment folder, found '../outside.json'",
        f"{m} line 8: expected 7 comma-separated fields (file,mode,guests,dom0_vcpus,bs,ring_order,run), found 3",
    ]


def test_header_problems(tmp_path):
    folder = _folder(tmp_path, "path,mode,mode,iops\nx.json,persistent,persistent,5\n")
    m = folder / "manifest.csv"
    assert _problems(folder) == [
        f"{m} line 1: expected a column named 'file', found columns ['path', 'mode', 'mode', 'iops']",
        f"{m} line 1: expected condition names other than the measured columns of analysis.ingest.fio's table, "
        "found ['iops']; rename them",
        f"{m} line 1: expected each column name once, found ['mode'] more than once",
    ]


def test_valid_manifest_types_reserved_columns_and_keeps_other_conditions(tmp_path):
    folder = _folder(tmp_path, "file,mode,guests,bs,scheduler\nr/a.json,persistent,2,64k,mq-deadline\n",
                     files=["r/a.json"])
    manifest = experiment.validate(folder)
    row = manifest.iloc[0]
    assert row["guests"] == 2 and row["bs_bytes"] == 65536 and row["scheduler"] == "mq-deadline"
    assert row["manifest_line"] == 2


@pytest.mark.slow
def test_load_joins_real_fio_output_with_conditions(loopback_experiment):
    table = experiment.load(loopback_experiment.folder)
    assert set(table["mode"]) == {"persistent", "non-persistent"}
    assert table.attrs["conditions"] == ["mode", "guests", "dom0_vcpus", "bs", "run"]
    three = table[(table["guests"] == 3) & (table["mode"] == "persistent")]
    assert sorted(three.loc[~three["is_aggregate"], "hostname"].unique()) == ["127.0.0.1", "127.0.0.2", "127.0.0.3"]
    assert (three["bs_bytes"] == 4096).all() and (three["fio_bs"] == "4k").all()
    assert three["is_aggregate"].sum() >= 1, "fio's All clients row is kept in the tidy table, flagged"
    hosts = table[~table["is_aggregate"]]
    engines = hosts.groupby("mode")["ioengine"].unique().map(list).to_dict()
    assert engines == {"persistent": ["psync"], "non-persistent": ["mmap"]}, "the stand-ins ran as labelled"


@pytest.mark.slow
def test_aggregate_sums_guests_without_the_all_clients_row(loopback_experiment):
    table = experiment.load(loopback_experiment.folder)
    runs = experiment.aggregate(table)
    assert len(runs) == len(loopback_experiment.rows)
    assert (runs["guests_measured"] == runs["guests"]).all()
    for run in runs.itertuples():
        same = table[(table["mode"] == run.mode) & (table["guests"] == run.guests) & (table["run"] == run.run)]
        hosts = same[~same["is_aggregate"]]
        assert run.iops == pytest.approx(hosts["iops"].sum())
        assert run.iops_per_guest_min <= run.iops_per_guest_mean <= run.iops_per_guest_max
        if run.guests > 1:  # fio's own "All clients" row counts the same I/Os ...
            everyone = same[same["is_aggregate"]]
            assert hosts["ios"].sum() == everyone["ios"].sum()
            # ... but divides by the longest runtime, not each host's own: within a few percent
            assert run.iops == pytest.approx(everyone["iops"].sum(), rel=0.05)


@pytest.mark.slow
def test_unreadable_fio_file_and_wrong_guest_count_are_reported(loopback_experiment, tmp_path):
    folder = tmp_path / "copy"
    shutil.copytree(loopback_experiment.folder, folder)
    rows = pd.read_csv(folder / "manifest.csv")
    broken = folder / rows.loc[0, "file"]
    broken.write_text(broken.read_text()[:200])  # real fio output, cut short
    rows.loc[rows.index[-1], "guests"] = 5       # the file holds fewer guests than that
    rows.to_csv(folder / "manifest.csv", index=False)
    with pytest.raises(ManifestError) as info:
        experiment.load(folder)
    lines = str(info.value).splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        f"{folder / 'manifest.csv'} line 2, column file: expected fio output in a format analysis.ingest.fio reads, "
        f"found '{rows.loc[0, 'file']}'")
    broken.write_text((loopback_experiment.folder / rows.loc[0, "file"]).read_text())
    with pytest.raises(ManifestError) as info:
        experiment.load(folder)
    assert str(info.value).splitlines() == [
        f"{folder / 'manifest.csv'} line {len(rows) + 1}, column guests: expected 5 guests in the run's fio output, "
        f"found {loopback_experiment.plan.guests[-1]}"]


def test_spread_summarises_repeats_of_each_condition():
    runs = pd.DataFrame({
        "mode": ["persistent"] * 3, "guests": [2, 2, 3], "run": [1, 2, 1],
        "iops": [100.0, 140.0, 200.0], "bw_bytes_s": [0.0] * 3, "guests_measured": [2, 2, 3],
        "iops_per_guest_mean": [50.0, 70.0, 66.7], "iops_per_guest_min": [40.0, 60.0, 60.0],
        "iops_per_guest_max": [60.0, 80.0, 70.0], "iops_per_guest_cv": [0.2, 0.1, 0.05],
    })
    two, three = experiment.spread(runs).to_dict("records")
    assert (two["guests"], two["runs"], two["iops_mean"]) == (2, 2, 120.0)
    assert two["iops_std"] == pytest.approx(28.2843, rel=1e-4)  # sample std of 100 and 140
    assert (two["iops_per_guest_min"], two["iops_per_guest_max"]) == (40.0, 80.0)
    assert two["iops_per_guest_cv_mean"] == pytest.approx(0.15)
    assert three["runs"] == 1 and np.isnan(three["iops_std"])


@pytest.mark.slow
def test_one_file_per_guest_with_a_guest_column_sums_the_files_of_a_run(tmp_path):
    """The layout without client/server: each guest's fio wrote its own file (real fio, tiny runs)."""
    import subprocess

    folder = tmp_path / "exp"
    folder.mkdir()
    rows = [("g1-a.json", 1, "a"), ("g2-a.json", 2, "a"), ("g2-b.json", 2, "b")]
    for name, _, guest in rows:
        subprocess.run(["fio", "--name=guest", f"--filename={tmp_path / guest}.dat", "--size=1m", "--rw=read",
                        "--bs=4k", "--ioengine=psync", "--output-format=json", f"--output={folder / name}"],
                       check=True, capture_output=True)
    (folder / "manifest.csv").write_text("file,mode,guests,guest\n" + "".join(
        f"{name},persistent,{guests},{guest}\n" for name, guests, guest in rows))
    table = experiment.load(folder)
    runs = experiment.aggregate(table).set_index("guests")
    assert list(runs["guests_measured"]) == [1, 2]
    two = table[table["guests"] == 2]
    assert runs.loc[2, "iops"] == pytest.approx(two["iops"].sum())
    assert runs.loc[2, "bw_bytes_s"] == pytest.approx(two["bw_bytes_s"].sum())


def test_the_example_builder_never_deletes_a_folder_it_did_not_write(tmp_path):
    from analysis.collect import loopback

    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "notes.txt").write_text("keep me")
    with pytest.raises(UsageError, match=rf"^{re.escape(str(folder))}: expected an empty folder or an earlier example "
                                         r"experiment \(manifest\.json titled .*\) to replace, found other files; "
                                         r"nothing was deleted$"):
        loopback.build_demo(folder)
    assert (folder / "notes.txt").read_text() == "keep me"


def test_a_saved_table_reads_back_equal_with_its_conditions(loopback_experiment, tmp_path):
    table = experiment.load(loopback_experiment.folder)
    path = experiment.save_table(table, tmp_path / "t.pkl")
    back = experiment.read_table(path)
    pd.testing.assert_frame_equal(back, table)
    assert back.attrs == table.attrs and back.attrs["conditions"]


def test_a_pickle_that_is_not_an_experiment_table_is_one_line(tmp_path):
    path = tmp_path / "t.pkl"
    pd.DataFrame({"a": [1]}).to_pickle(path)
    with pytest.raises(ManifestError, match=f"^{path}: expected an experiment table written by save_table"):
        experiment.read_table(path)


def test_provenance_reads_title_and_what_and_tolerates_no_manifest_json(tmp_path):
    assert experiment.provenance(tmp_path).label == f"your experiment {tmp_path.name}"
    (tmp_path / "manifest.json").write_text('{"title": "T", "what": "fio over loopback"}')
    source = experiment.provenance(tmp_path)
    assert (source.label, source.what) == (f"{tmp_path.name} (T)", "fio over loopback")
