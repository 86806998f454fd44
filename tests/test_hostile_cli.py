"""Hostile input and odd usage of every subcommand: one line naming the file or option, exit 2.

No traceback, no hang, no silent drop. Experiment folders are copies of a real one (the
``loopback_experiment`` fixture: fio client/server output), mutated.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import notebook_inprocess
from analysis.ingest import experiment
from analysis.cli import main
from analysis.errors import ManifestError

REPO = Path(__file__).resolve().parents[1]
BIG = "9" * 400


def _one_line(capsys, argv, *names):
    """Run the CLI; assert exit 2 and one line on stderr that names each of ``names``; return it."""
    try:
        code = main(argv)
    except SystemExit as stop:  # argparse's own usage errors
        code = stop.code
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert code == 2, (argv, captured.err)
    assert len(lines) == 1 and lines[0].startswith(f"pgrant-lab {argv[0]}: "), (argv, captured.err)
    for name in names:
        assert name in lines[0], (name, lines[0])
    return lines[0]


@pytest.fixture
def exp(loopback_experiment, tmp_path):
    folder = tmp_path / "exp"
    shutil.copytree(loopback_experiment.folder, folder)
    return folder


def _rewrite(folder, edit):
    rows = pd.read_csv(folder / "manifest.csv", dtype=str, keep_default_na=False)
    rows = edit(rows)
    rows.to_csv(folder / "manifest.csv", index=False)
    return rows


# ---- numbers out of range: one sentence, not a traceback or a memory blow-up ----------------------

@pytest.mark.parametrize("argv, names", [
    (["ring", "--vms", BIG], ["--vms"]),
    (["ring", "--disks", BIG], ["--disks"]),
    (["ring", "--queues", "１"], ["--queues"]),
    (["simulate", "--requests", "1000000000"], ["--requests", "1000000000"]),
    (["simulate", "--requests", "10000000"], ["--requests"]),
    (["simulate", "--slots", BIG], ["--slots"]),
    (["kit", "--out", "{tmp}/k", "--guests", "1..10000000000"], ["--guests", "10000000000"]),
    (["kit", "--out", "{tmp}/k", "--runs", "10000000"], ["--runs"]),
    (["kit", "--out", "{tmp}/k", "--guests", "３"], ["--guests", "'３'"]),
    (["kit", "--out", "{tmp}/k", "--guests", "3_0"], ["--guests", "'3_0'"]),
    (["kit", "--out", "{tmp}/k", "--bs", "4k\n64q"], ["--bs", "'4k\\n64q'"]),
    (["kit", "--out", "{tmp}/k", "--bs", "99999999999999999999k"], ["--bs"]),
    (["kit", "--out", "{tmp}/k", "--size", "1\x1b[2J"], ["--size", "\\x1b"]),
    (["kit", "--out", "{tmp}/k", "--modes", "persistent\nrm -rf"], ["--modes", "\\n"]),
    (["fit", "{tmp}/big.csv", "--model", "usl", "--x", "x", "--y", "y"], ["big.csv", "'x'"]),
    (["fit", "{tmp}/ok.csv", "--model", "linear", "--x", "x", "--y", "y", "--boot", "1000000000000"], ["--boot"]),
    (["fit", "/dev/zero", "--model", "linear", "--x", "x", "--y", "y"], ["/dev/zero", "character device"]),
    (["fit", "{tmp}/fifo", "--model", "linear", "--x", "x", "--y", "y"], ["fifo", "FIFO"]),
    (["fit", "{tmp}/sparse.csv", "--model", "linear", "--x", "x", "--y", "y"], ["sparse.csv", "bytes"]),
    (["fit", "{tmp}", "--model", "linear", "--x", "x", "--y", "y"], ["a folder"]),
    (["kit", "--out", "/dev/full"], ["/dev/full"]),
    (["kit", "--out", "/proc/x"], ["/proc/x"]),
    (["kit", "--out", "{tmp}/ok.csv/sub"], ["ok.csv/sub", "regular file"]),
    (["report", "--out", "/proc/x", "--only", "02"], ["/proc/x"]),
])
def test_out_of_range_and_odd_arguments_give_one_line(tmp_path, capsys, argv, names):
    (tmp_path / "big.csv").write_text("x,y\n" + "".join(f"{i}e200,{i}\n" for i in range(1, 8)))
    (tmp_path / "ok.csv").write_text("x,y\n" + "".join(f"{i},{2 * i + 1}\n" for i in range(1, 8)))
    os.mkfifo(tmp_path / "fifo")
    with open(tmp_path / "sparse.csv", "wb") as fh:
        fh.truncate(1 << 30)  # 1 GiB that takes no disk
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    _one_line(capsys, argv, *names)


@pytest.mark.parametrize("argv", [["ring"], ["simulate", "--requests", "100"],
                                  ["kit", "--out", "{tmp}/k", "--guests", "1..2"]])
def test_stdout_on_a_full_disk_is_one_line_not_a_traceback(tmp_path, argv):
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    with open("/dev/full", "w") as full:
        proc = subprocess.run([sys.executable, "-m", "analysis.cli", *argv], stdout=full, stderr=subprocess.PIPE,
                              text=True, cwd=REPO, timeout=120)
    assert proc.returncode == 2 and proc.stderr.splitlines() == [
        f"pgrant-lab {argv[0]}: standard output: expected to write the output, found an error (No space left on device)"]


# ---- experiment folders: symlinks, aliases, special files, odd integers, bad sizes ----------------

def test_a_symlink_out_of_the_experiment_folder_is_refused(exp, tmp_path, capsys):
    outside = tmp_path / "outside.json"
    first = pd.read_csv(exp / "manifest.csv")["file"][0]
    shutil.copy(exp / first, outside)
    (exp / "results" / "link.json").symlink_to(outside)
    (exp / "results" / "dir-link").symlink_to(tmp_path, target_is_directory=True)
    _rewrite(exp, lambda rows: rows.assign(file=["results/link.json", "results/dir-link/outside.json"]
                                           + list(rows["file"][2:])))
    with pytest.raises(ManifestError) as err:
        experiment.load(exp)
    lines = str(err.value).splitlines()
    assert len(lines) == 2 and all("a symlink to a path outside it" in line for line in lines)
    assert "line 2, column file" in lines[0] and "line 3, column file" in lines[1]


def test_an_alias_of_a_listed_file_is_not_a_second_run(exp, capsys):
    first = pd.read_csv(exp / "manifest.csv")["file"][0]
    (exp / "alias.json").symlink_to(exp / first)
    _rewrite(exp, lambda rows: pd.concat([rows, rows.iloc[[0]].assign(file="alias.json", run="2")]))
    with pytest.raises(ManifestError, match=r"expected each file once, found 'alias.json' again \(first on line 2\)"):
        experiment.load(exp)


def test_a_manifest_that_is_a_link_out_a_folder_or_a_fifo_is_named_and_never_echoed(exp, tmp_path, capsys):
    secret = tmp_path / "passwd"
    secret.write_text("root:x:0:0:root:/root:/bin/bash\n")
    (exp / "manifest.csv").unlink()
    (exp / "manifest.csv").symlink_to(secret)
    line = _one_line(capsys, ["report", "--data", str(exp), "--out", str(tmp_path / "r")], "manifest.csv",
                     "outside")
    assert "root" not in line.replace(str(tmp_path), "")
    (exp / "manifest.csv").unlink()
    (exp / "manifest.csv").mkdir()
    _one_line(capsys, ["report", "--data", str(exp), "--out", str(tmp_path / "r")], "manifest.csv", "found a folder")
    (exp / "manifest.csv").rmdir()
    os.mkfifo(exp / "manifest.csv")
    _one_line(capsys, ["report", "--data", str(exp), "--out", str(tmp_path / "r")], "manifest.csv", "FIFO")
    _one_line(capsys, ["report", "--data", "/dev/zero", "--out", str(tmp_path / "r")], "/dev/zero",
              "character device")
    assert not (tmp_path / "r").exists()


def test_a_fifo_named_by_a_row_is_called_a_fifo(exp, capsys):
    os.mkfifo(exp / "pipe.json")
    _rewrite(exp, lambda rows: rows.assign(file=["pipe.json"] + list(rows["file"][1:])))
    with pytest.raises(ManifestError, match=r"line 2, column file: expected a fio output file \(a regular file\), "
                                            r"found a FIFO \(named pipe\) 'pipe.json'$"):
        experiment.validate(exp)


@pytest.mark.parametrize("column, value", [("guests", "３"), ("guests", "3_0"), ("run", "１"),
                                           ("guests", "99999999999999999999"), ("bs", "99999999999999999999k"),
                                           ("bs", "４k"), ("dom0_vcpus", "2\n3"), ("mode", "persistent\x1b[2J"),
                                           ("file", "a\x00b.json"), ("file", "results/../../x.json")])
def test_odd_numbers_in_the_manifest_are_one_line_each(exp, tmp_path, capsys, column, value):
    _rewrite(exp, lambda rows: rows.assign(**{column: [value] + list(rows[column][1:])}))
    line = _one_line(capsys, ["report", "--data", str(exp), "--out", str(tmp_path / "r")], "line 2", f"column {column}")
    assert line.isprintable()


# Manifest cells a tester would try: Unicode digits, separators, signs, huge, control characters, markup.
cells = st.one_of(
    st.sampled_from(["３", "3_0", "+3", "-1", "0", "0x10", "1e3", "3.0", "", " ", "NaN", "inf", BIG, "٣", "4k", "4K",
                     "4kib", "4 k", "0k", "persistent", "<b>x</b>", "$x$", "a,b", '"', "\x00", "\r", "\n"]),
    st.text(max_size=6))


@settings(max_examples=120, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(column=st.sampled_from(["mode", "guests", "dom0_vcpus", "bs", "run", "file"]), row=st.integers(0, 7),
       value=cells)
def test_any_manifest_cell_loads_or_gives_printable_lines_naming_the_manifest(loopback_experiment, tmp_path_factory,
                                                                               column, row, value):
    folder = tmp_path_factory.mktemp("m") / "exp"
    shutil.copytree(loopback_experiment.folder, folder)
    rows = pd.read_csv(folder / "manifest.csv", dtype=str, keep_default_na=False)
    rows.loc[row, column] = value
    rows.to_csv(folder / "manifest.csv", index=False)
    try:
        table = experiment.load(folder, progress=False)
    except ManifestError as err:
        for line in str(err).splitlines():
            assert line.startswith(str(folder / "manifest.csv")) and line.isprintable(), line
        return
    assert table["file"].nunique() == len(rows), "a row was dropped"
    experiment.aggregate(table)


# ---- what the check accepts, the notebooks handle -------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("columns", [["file"], ["file", "guest"], ["file", "bs"], ["file", "guests", "run"],
                                     ["file", "mode", "run"]])
def test_every_manifest_the_check_accepts_runs_through_notebooks_09_and_10(loopback_experiment, tmp_path, columns):
    folder = tmp_path / "exp"
    shutil.copytree(loopback_experiment.folder, folder)
    rows = pd.read_csv(folder / "manifest.csv", dtype=str)
    if "guest" in columns:
        rows["guest"] = [f"g{i}" for i in range(len(rows))]
    if columns[1:] == ["guests", "run"]:
        rows["run"] = [str(i) for i in range(1, len(rows) + 1)]
    if columns[1:] == ["mode", "run"]:
        rows["run"] = [str(i) for i in range(1, len(rows) + 1)]
    rows[columns].to_csv(folder / "manifest.csv", index=False)
    try:
        experiment.load(folder, progress=False)
    except ManifestError:
        return  # refused by the check: fine
    for name in ("09-your-experiment", "10-decision"):
        shown = notebook_inprocess.run(name, experiment_dir=str(folder), data_dir=str(REPO / "data"))
        assert shown, f"{name} showed nothing"


# ---- the kit's runbook ---------------------------------------------------------------------------

def _dry_run(folder):
    proc = subprocess.run(["bash", str(folder / "runbook.sh")], env={**os.environ, "DRY_RUN": "1"},
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return [line for line in proc.stdout.splitlines() if line.startswith("+ fio --client")]


@pytest.mark.skipif(shutil.which("bash") is None, reason="the runbook is a bash script")
def test_the_runbook_runs_every_row_with_its_own_job_after_a_rerun_and_without_a_final_newline(tmp_path, capsys):
    out = tmp_path / "kit"
    assert main(["kit", "--out", str(out), "--guests", "1..2", "--dom0-vcpus", "2", "--bs", "4k,64k", "--runs", "1"]) == 0
    assert main(["kit", "--out", str(out), "--guests", "1..2", "--dom0-vcpus", "2", "--bs", "4k,64k", "--runs", "1",
                 "--rw", "randwrite"]) == 0
    assert sorted(p.name for p in (out / "jobs").iterdir()) == ["randwrite-4k.fio", "randwrite-64k.fio"]
    manifest = (out / "manifest.csv").read_text()
    (out / "manifest.csv").write_text(manifest.rstrip("\n"))  # an editor that drops the last newline
    rows = pd.read_csv(out / "manifest.csv")
    runs = _dry_run(out)
    assert len(runs) == len(rows) == 8
    for line, row in zip(runs, rows.to_dict("records")):
        assert line.endswith(f"--output={row['file']} jobs/randwrite-{row['bs']}.fio"), line
