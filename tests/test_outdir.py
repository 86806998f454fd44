"""analysis.outdir: the one guard for every output folder and file; nothing of a user's is lost."""

import hashlib
import os
import string
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis import outdir
from analysis.cli import main
from analysis.errors import UsageError


def _snapshot(folder):
    return {str(p.relative_to(folder)): (p.is_symlink(), hashlib.sha256(p.read_bytes()).hexdigest()
                                         if p.is_file() and not p.is_symlink() else None)
            for p in sorted(Path(folder).rglob("*"))}


names = st.text(alphabet=string.ascii_letters + string.digits + "._- ", min_size=1, max_size=12).filter(
    lambda n: n not in (".", "..") and n != outdir.MARKER)
layouts = st.lists(st.tuples(st.lists(names, min_size=0, max_size=2), names, st.binary(max_size=64)),
                   min_size=1, max_size=5)


def _make(folder, layout):
    folder.mkdir(parents=True, exist_ok=True)
    for parents, name, content in layout:
        target = folder.joinpath(*parents) / name
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            if not target.exists():
                target.write_bytes(content)
        except (NotADirectoryError, FileExistsError):  # a file already where this wants a folder
            continue


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(layout=layouts, command=st.sampled_from(["kit", "report"]))
def test_a_folder_of_someone_elses_files_is_refused_and_left_unchanged(tmp_path_factory, layout, command):
    folder = tmp_path_factory.mktemp("user") / "mine"
    _make(folder, layout)
    before = _snapshot(folder)
    argv = ["kit", "--out", str(folder)] if command == "kit" else ["report", "--out", str(folder), "--only", "02"]

    assert main(argv) == 2
    assert _snapshot(folder) == before
    assert sorted(p.name for p in folder.parent.iterdir()) == ["mine"], "scratch or lock left beside --out"


@pytest.mark.parametrize("target", ["/", "/etc", "~", "{repo}", "{repo}/notebooks", "{repo}/data/raw/x",
                                    "{repo}/data/raw/measured-here/kit-here", "/dev/full", "/dev/null", "/proc/x",
                                    "{tmp}/afile/sub", "{tmp}/afile"])
def test_dangerous_out_folders_are_refused_with_one_line(tmp_path, capsys, target):
    (tmp_path / "afile").write_text("x")
    path = target.replace("{repo}", str(outdir.REPO_ROOT)).replace("{tmp}", str(tmp_path))
    path = os.path.expanduser(path)
    for argv in (["kit", "--out", path], ["report", "--out", path, "--only", "02"]):
        assert main(argv) == 2
        err = capsys.readouterr().err.splitlines()
        assert len(err) == 1 and err[0].startswith(f"pgrant-lab {argv[0]}: ") and path in err[0], err
    assert not Path(outdir.REPO_ROOT, "data/raw/measured-here/kit-here").exists()
    assert (tmp_path / "afile").read_text() == "x"


def test_an_earlier_kit_is_rewritten_but_an_edited_one_needs_force(tmp_path, capsys):
    out = tmp_path / "kit"
    assert main(["kit", "--out", str(out), "--bs", "4k,64k"]) == 0
    (out / "results").mkdir()
    (out / "results" / "measured.json").write_text("{}")
    assert main(["kit", "--out", str(out), "--bs", "4k"]) == 0, capsys.readouterr().err
    assert sorted(p.name for p in (out / "jobs").iterdir()) == ["randread-4k.fio"], "stale job files are removed"
    assert (out / "results" / "measured.json").read_text() == "{}", "results/ is the user's"

    (out / "site.env").write_text((out / "site.env").read_text() + "GUEST_HOSTS=10.1.1.1\n")
    edited = _snapshot(out)
    capsys.readouterr()
    assert main(["kit", "--out", str(out)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and "found edits in 'site.env'" in err[0] and "--force" in err[0]
    assert _snapshot(out) == edited
    assert main(["kit", "--out", str(out), "--force"]) == 0
    assert "10.1.1.1" not in (out / "site.env").read_text()

    (out / "notes.txt").write_text("mine")
    assert main(["kit", "--out", str(out), "--force"]) == 2, "a file the kit never wrote is refused even with --force"
    assert "found others ('notes.txt')" in capsys.readouterr().err


def test_a_forged_marker_cannot_make_the_kit_delete_outside_its_folder(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep")
    out = tmp_path / "kit"
    assert main(["kit", "--out", str(out)]) == 0
    marker = (out / outdir.MARKER).read_text().replace('"README.md"', '"../victim.txt": "x", "README.md"')
    (out / outdir.MARKER).write_text(marker)
    main(["kit", "--out", str(out), "--force"])
    assert victim.read_text() == "keep"


def test_a_marker_of_another_command_is_refused(tmp_path, capsys):
    out = tmp_path / "k"
    assert main(["kit", "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["report", "--out", str(out), "--only", "02"]) == 2
    assert "found the output of 'pgrant-lab kit'" in capsys.readouterr().err


def test_publish_swaps_whole_and_the_lock_refuses_a_second_writer(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.html").write_text("old")
    real = out.resolve()
    with outdir.lock(real, command="test"):
        with pytest.raises(UsageError, match="expected no other test writing this folder, found one running"):
            with outdir.lock(real, command="test"):
                pass
        with outdir.staging(real) as partial:
            (partial / "new.html").write_text("new")
            outdir.publish(partial, real)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    assert [p.name for p in out.iterdir()] == ["new.html"]


def test_staging_is_removed_when_interrupted(tmp_path):
    real = (tmp_path / "out").resolve()
    with pytest.raises(KeyboardInterrupt):
        with outdir.staging(real) as partial:
            (partial / "half.html").write_text("half")
            raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def test_ingest_out_through_a_hard_link_or_symlink_to_an_input_is_refused(tmp_path, capsys):
    source = tmp_path / "in.json"
    source.write_text('{"fio version": "fio-3.33", "jobs": []}')
    os.link(source, tmp_path / "hard.csv")
    os.symlink(source, tmp_path / "soft.csv")
    for out in ("hard.csv", "soft.csv", "in.json"):
        assert main(["ingest", str(source), "--out", str(tmp_path / out)]) == 2
        err = capsys.readouterr().err.splitlines()
        assert len(err) == 1 and "found" in err[0] and "FILEs being read" in err[0], err
    assert source.read_text() == '{"fio version": "fio-3.33", "jobs": []}'


@pytest.mark.parametrize("out", ["/dev/full", "/dev/null", "/proc/x", "{tmp}/afile/t.csv", "{tmp}/none/t.csv",
                                 "{tmp}/notes.txt"])
def test_ingest_out_that_cannot_or_must_not_be_written_is_refused(tmp_path, capsys, out):
    (tmp_path / "afile").write_text("x")
    (tmp_path / "notes.txt").write_text("mine")
    out = out.replace("{tmp}", str(tmp_path))
    with pytest.raises(UsageError, match=f"^--out {out}: expected"):
        outdir.check_file(Path(out), inputs=[])
        outdir.write_file(Path(out), lambda tmp: tmp.write_text("table"))  # /proc/x: refused when written
    assert (tmp_path / "notes.txt").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile", "notes.txt"]


def test_write_file_replaces_a_link_not_its_target(tmp_path):
    target = tmp_path / "t.csv"
    target.write_text("old")
    os.link(target, tmp_path / "link.csv")
    outdir.write_file(tmp_path / "link.csv", lambda tmp: tmp.write_text("new"))
    assert target.read_text() == "old" and (tmp_path / "link.csv").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.csv", "t.csv"]
