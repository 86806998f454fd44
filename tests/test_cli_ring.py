"""Issue 13, item 6: persistent grants are dom0 pages; today's defaults against 2012."""

import json

from analysis.cli import main
from analysis.xen.blkif import DOM0_PAGE_PER_PERSISTENT_GRANT, memory_2012_and_today


def test_ring_cli_gives_4950_mib_for_todays_defaults(capsys):
    argv = ["ring", "--order", "0", "--indirect-segments", "32", "--queues", "4", "--cap", "1056", "--vms", "150",
            "--disks", "2", "--json"]
    assert main(argv) == 0
    report = json.loads(capsys.readouterr().out)
    # Per ring: 32 slots x (32 data + 1 indirect page) = 1056 = the cap; 4 rings; 300 devices.
    assert report["pages_per_ring"] == 1056 and report["pages_per_device"] == 4224
    assert report["mib_per_host"] == 4950.0


def test_today_is_twelve_times_2012_and_every_grant_is_a_dom0_page():
    m = memory_2012_and_today(150, 2)
    assert DOM0_PAGE_PER_PERSISTENT_GRANT
    assert m["pages_per_device_2012"] == 352 and round(m["gib_2012"], 2) == 0.40
    assert m["mib_today"] == 4950.0 and round(m["gib_today"], 1) == 4.8
    # The pointers Jan counted are 8 bytes per page: 1/512 of the pages they index.
    assert m["page_pointer_bytes_2012"] * 512 == m["bytes_2012"]
