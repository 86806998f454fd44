"""pgrant-lab kit: job files, runbook and manifest for a Xen host; the job files run under real fio; and
(issue 13) the runbook proves per device which mode both ends negotiated, records it and refuses a
run whose mode it cannot prove (Linux 5.10-5.19 negotiation bugs)."""

import csv
import json
import os
import re
import subprocess

import pytest

from analysis.collect import kit, loopback
from analysis.cli import main
from analysis.errors import UsageError


def _kit(tmp_path, *extra):
    out = tmp_path / "kit"
    code = main(["kit", "--guests", "1..3", "--dom0-vcpus", "4,24", "--bs", "4k,64k", "--runs", "2",
                 "--out", str(out), *extra])
    assert code == 0
    return out


def _manifest(out):
    with (out / "manifest.csv").open() as fh:
        return list(csv.DictReader(fh))


@pytest.mark.parametrize("text, expected", [
    ("1..4", [1, 2, 3, 4]),
    ("1,2,4,8", [1, 2, 4, 8]),
    ("8,1..3,2", [1, 2, 3, 8]),
])
def test_guest_lists_accept_ranges_and_lists(text, expected):
    assert kit.parse_int_list(text, "--guests") == expected


@pytest.mark.parametrize("text, found", [("0..3", "'0..3'"), ("5..2", "'5..2'"), ("a", "'a'"), ("1,,2", "''")])
def test_bad_guest_lists_name_the_option_and_the_item(text, found):
    with pytest.raises(UsageError, match=f"--guests {text}: expected .*found {found}"):
        kit.parse_int_list(text, "--guests")


@pytest.mark.parametrize("text, nbytes", [("4k", 4096), ("64K", 65536), ("1m", 1048576), ("512", 512), ("64KiB", 65536)])
def test_block_sizes_in_bytes(text, nbytes):
    assert kit.bs_bytes(text) == nbytes


def test_kit_writes_one_manifest_row_per_condition_and_one_job_per_block_size(tmp_path):
    out = _kit(tmp_path)
    rows = _manifest(out)
    assert len(rows) == 2 * 2 * 3 * 2 * 2  # modes x dom0 VCPUs x guest counts x bs x runs
    assert list(rows[0]) == ["file", "mode", "guests", "dom0_vcpus", "bs", "run"]
    assert {r["mode"] for r in rows} == {"persistent", "non-persistent"}
    assert len({r["file"] for r in rows}) == len(rows)
    assert sorted(p.name for p in (out / "jobs").iterdir()) == ["randread-4k.fio", "randread-64k.fio"]
    job = (out / "jobs" / "randread-64k.fio").read_text()
    assert "filename=${PGRANT_DEV}" in job and "\nbs=64k\n" in job and "\nruntime=60\n" in job
    assert json.loads((out / "kit.json").read_text())["plan"]["guests"] == [1, 2, 3]
    assert os.access(out / "runbook.sh", os.X_OK)


def test_runbook_dry_run_switches_modes_and_vcpus_and_writes_every_manifest_file(tmp_path):
    out = _kit(tmp_path)
    subprocess.run(["bash", "-n", str(out / "runbook.sh")], check=True)
    dry = subprocess.run([str(out / "runbook.sh")], env={**os.environ, "DRY_RUN": "1"},
                         capture_output=True, text=True, check=True).stdout
    assert "echo N > /sys/module/xen_blkback/parameters/feature_persistent" in dry
    assert "echo Y > /sys/module/xen_blkfront/parameters/feature_persistent" in dry
    assert "xl vcpu-set 0 4" in dry and "xl vcpu-set 0 24" in dry
    fio_lines = [line for line in dry.splitlines() if line.startswith("+ fio --client=")]
    assert len(fio_lines) == len(_manifest(out))
    for row in _manifest(out):
        assert any(f"--output={row['file']} jobs/randread-{row['bs']}.fio" in line for line in fio_lines)
    assert not (out / "results").exists(), "a dry run must not create results"


def test_kit_refuses_a_folder_with_other_files_and_leaves_them_alone(tmp_path, capsys):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    code = main(["kit", "--out", str(out)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert f"--out {out}: expected a new or empty folder, or an earlier pgrant-lab kit output" in err[0]
    assert [p.name for p in out.iterdir()] == ["notes.txt"]


def test_kit_rewrites_its_own_output_but_never_results(tmp_path):
    out = _kit(tmp_path)
    result = out / _manifest(out)[0]["file"]
    result.parent.mkdir(parents=True)
    result.write_text("measured")
    _kit(tmp_path, "--iodepth", "8")
    assert result.read_text() == "measured"
    assert "\niodepth=8\n" in (out / "jobs" / "randread-4k.fio").read_text()


@pytest.mark.parametrize("args, message", [
    (["--modes", "persistant"], "--modes persistant: expected a comma list of persistent, non-persistent"),
    (["--bs", "4q"], "--bs 4q: expected block sizes such as 4k,64k, found '4q'"),
    (["--runs", "0"], "--runs 0: expected a positive integer"),
    (["--size", "lots"], "--size lots: expected a fio size"),
    (["--rw", "../../escape"], "--rw ../../escape: expected one of fio's rw patterns read, write, trim, randread, "
                               "randwrite, randtrim, rw, readwrite, randrw, trimwrite, randtrimwrite, found '../../escape'"),
])
def test_bad_arguments_give_one_line_and_exit_2(tmp_path, capsys, args, message):
    code = main(["kit", "--out", str(tmp_path / "k"), *args])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and message in err[0]
    assert list(tmp_path.iterdir()) == []  # nothing written, not even outside --out


@pytest.mark.slow
def test_kit_job_file_runs_under_fio_client_server_on_local_files(tmp_path):
    """The job exactly as the kit wrote it, with PGRANT_DEV pointing at a local file per 'guest'."""
    out = _kit(tmp_path, "--runtime-s", "1", "--ramp-s", "0", "--size", "2m")
    with loopback.FioServers(2, tmp_path / "guests") as servers:
        hosts = servers.host_list(2, tmp_path / "hosts.txt")
        result = tmp_path / "run.json"
        subprocess.run(
            ["fio", f"--client={hosts}", "--output-format=json", f"--output={result}",
             str(out / "jobs" / "randread-4k.fio")],
            env={**os.environ, kit.DEVICE_VARIABLE: "guest.dat"}, check=True, capture_output=True,
        )
    stats = json.loads(result.read_text())["client_stats"]
    per_host = [s for s in stats if s["jobname"] != "All clients"]
    assert sorted(s["hostname"] for s in per_host) == ["127.0.0.1", "127.0.0.2"]
    assert all(s["error"] == 0 and s["read"]["io_bytes"] > 0 for s in per_host)
    assert all((tmp_path / "guests" / f"guest-0{k}" / "guest.dat").stat().st_size == 2 * 2**20 for k in (1, 2))


def test_rw_patterns_are_the_ones_fio_accepts():
    help_text = subprocess.run(["fio", "--cmdhelp=rw"], capture_output=True, text=True, check=True).stdout
    # "valid values: read  Sequential read" then one "   : write  Sequential write" line per value
    valid = help_text.split("valid values:", 1)[1].splitlines()
    names = [valid[0].split()[0]] + [line.split(":", 1)[1].split()[0] for line in valid[1:] if ":" in line]
    assert tuple(names) == kit.FIO_RW_PATTERNS


# A stand-in for `$DOM0_SHELL`: answers `xl domid`, `xenstore-list` and `xenstore-read` from files
# under $STORE (one file per xenstore path); a missing file fails as xenstore-read does.
FAKE_DOM0 = r"""#!/usr/bin/env bash
case "$1" in
  xl) [ "$2" = domid ] && echo 7 ;;
  xenstore-list) ls "$STORE$2" ;;
  xenstore-read) cat "$STORE$2" 2>/dev/null || { echo "xenstore-read: couldn't read path $2" >&2; exit 1; } ;;
esac
"""


def _check_mode(tmp_path, mode, values):
    out = tmp_path / "kit"
    assert main(["kit", "--guests", "1..2", "--out", str(out)]) == 0
    runbook = (out / "runbook.sh").read_text()
    function = re.search(r"^check_mode\(\) \{.*?^\}$", runbook, re.S | re.M).group(0)
    store = tmp_path / "store"
    for path, value in values.items():
        (store / path).parent.mkdir(parents=True, exist_ok=True)
        (store / path).write_text(f"{value}\n")
    fake = tmp_path / "dom0"
    fake.write_text(FAKE_DOM0)
    fake.chmod(0o755)
    script = f"set -euo pipefail\n{function}\ncheck_mode {mode}\n"
    env = {**os.environ, "STORE": str(store), "DOM0_SHELL": str(fake), "GUEST_DOMAINS": "guest1"}
    env.pop("DRY_RUN", None)
    done = subprocess.run(["bash", "-c", script], cwd=out, env=env, capture_output=True, text=True)
    log = out / "results" / "negotiated-modes.csv"
    return done, (log.read_text().splitlines() if log.exists() else [])


BACK = "local/domain/0/backend/vbd/7/{dev}/feature-persistent"


FRONT = "local/domain/7/device/vbd/{dev}/feature-persistent"


def test_both_ends_at_1_prove_persistent_and_every_device_is_recorded(tmp_path):
    values = {BACK.format(dev=d): 1 for d in (51712, 51728)} | {FRONT.format(dev=d): 1 for d in (51712, 51728)}
    done, log = _check_mode(tmp_path, "persistent", values)
    assert done.returncode == 0, done.stderr
    assert log[0] == "time_utc,mode,domain,domid,device,backend,frontend,negotiated"
    assert [line.split(",")[1:] for line in log[1:]] == [
        ["persistent", "guest1", "7", "51712", "1", "1", "1"], ["persistent", "guest1", "7", "51728", "1", "1", "1"]]


@pytest.mark.parametrize("mode, back, front, message", [
    ("persistent", 1, 0, "guest1 device 51712 negotiated feature-persistent=0 (backend 1, frontend 0), expected 1"),
    ("non-persistent", 1, 1, "guest1 device 51712 negotiated feature-persistent=1 (backend 1, frontend 1), expected 0"),
    ("persistent", 1, None, "feature-persistent unreadable (backend '1', frontend ''), so its mode cannot be proven"),
])
def test_a_mode_that_differs_or_cannot_be_read_stops_the_run(tmp_path, mode, back, front, message):
    values = {BACK.format(dev=51712): back}
    if front is not None:
        values[FRONT.format(dev=51712)] = front
    done, log = _check_mode(tmp_path, mode, values)
    assert done.returncode == 1
    assert message in done.stderr


def test_runbook_cites_the_negotiation_fixes(tmp_path):
    out = tmp_path / "kit"
    assert main(["kit", "--out", str(out)]) == 0
    text = (out / "runbook.sh").read_text() + (out / "README.md").read_text()
    for commit in ("fc9be616bb8f", "e94c6101e151", "402c43ea6b34"):
        assert commit in text
