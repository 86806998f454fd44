"""``pgrant-lab ring``: geometry and memory as JSON, indirect segments, queues and the cap, one line with
exit 2 for bad arguments, the README's documented output, and (issue 13, item 6) today's defaults."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from analysis.cli import main
from tests.cli_run import run_cli


ROOT = Path(__file__).resolve().parents[1]


def _ring(capsys, *argv):
    return run_cli(["ring", *argv], capsys)


def test_ring_json_reports_geometry_and_memory(capsys):
    code, out, _ = _ring(capsys, "--order", "3", "--vms", "150", "--disks", "2", "--json")
    report = json.loads(out)
    assert code == 0
    assert report["slots"] == 256 and report["ring_grant_refs"] == 8
    assert report["bytes_per_device"] == 256 * 11 * 4096 == report["in_flight_bytes_per_ring"]
    assert report["bytes_per_host"] == 300 * report["bytes_per_device"]
    assert report["page_pointer_bytes_per_device"] == 256 * 11 * 8


def test_ring_indirect_segments_and_cap(capsys):
    code, out, _ = _ring(capsys, "--order", "4", "--indirect-segments", "256", "--cap", "1056", "--json")
    report = json.loads(out)
    assert code == 0 and report["slots"] == 512 and report["indirect_pages_per_request"] == 1
    assert report["pages_per_device"] == 1056 and report["capped"] is True
    assert report["in_flight_bytes_per_ring"] == 512 * 256 * 4096


def test_ring_queues_multiply_the_per_ring_store(capsys):
    _, one, _ = _ring(capsys, "--order", "2", "--cap", "1056", "--json")
    code, four, _ = _ring(capsys, "--order", "2", "--cap", "1056", "--queues", "4", "--vms", "3", "--json")
    one, four = json.loads(one), json.loads(four)
    assert code == 0 and four["pages_per_ring"] == one["pages_per_ring"] == 1056
    assert four["bytes_per_device"] == 4 * one["bytes_per_device"]
    assert four["bytes_per_host"] == 3 * 4 * one["bytes_per_device"]


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--order", "5"], "pgrant-lab ring: --order: expected an integer ring page order from 0 to 4"),
        (["--order", "-1"], "argument --order: expected a non-negative integer, found '-1'"),
        (["--order", "1.5"], "argument --order: expected a non-negative integer, found '1.5'"),
        (["--abi", "sparc"], "pgrant-lab ring: --abi: expected one of x86_64, x86_32, found 'sparc'"),
        (["--indirect-segments", "4097"], "pgrant-lab ring: --indirect-segments: expected an integer from 1 to 4096"),
        (["--indirect-segments", "0"], "pgrant-lab ring: --indirect-segments: expected an integer from 1 to 4096"),
        (["--vms", "-3"], "argument --vms: expected a non-negative integer, found '-3'"),
        (["--cap", "x"], "argument --cap: expected a non-negative integer, found 'x'"),
        (["--queues", "0"], "pgrant-lab ring: --queues: expected an integer >= 1, found 0"),
    ],
)
def test_ring_bad_arguments_exit_2_with_one_line(capsys, argv, message):
    code, out, err = _ring(capsys, *argv)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and message in err


def test_readme_documents_the_order_0_json_output(capsys):
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Ring geometry", 1)[1]
    documented = json.loads(re.search(r"```json\n(.*?)```", section, re.S).group(1))
    _, out, _ = _ring(capsys, "--order", "0", "--json")
    assert json.loads(out) == documented


def test_ring_cli_gives_4950_mib_for_todays_defaults(capsys):
    argv = ["ring", "--order", "0", "--indirect-segments", "32", "--queues", "4", "--cap", "1056", "--vms", "150",
            "--disks", "2", "--json"]
    assert main(argv) == 0
    report = json.loads(capsys.readouterr().out)
    # Per ring: 32 slots x (32 data + 1 indirect page) = 1056 = the cap; 4 rings; 300 devices.
    assert report["pages_per_ring"] == 1056 and report["pages_per_device"] == 4224
    assert report["mib_per_host"] == 4950.0
