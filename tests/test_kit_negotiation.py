"""Issue 13: the runbook proves per device which mode both ends negotiated, records it and refuses
a run whose mode it cannot prove (Linux 5.10-5.19 negotiation bugs)."""

import os
import re
import subprocess

import pytest

from analysis.cli import main

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
