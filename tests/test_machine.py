"""analysis.machine: the facts a measured-here manifest records and the label its figures carry."""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
from pathlib import Path

import pytest

from analysis import machine

ROOT = Path(__file__).resolve().parents[1]
COMMITTED = sorted((ROOT / "data" / "raw" / "measured-here").glob("*/manifest.json"))


def _committed_machines() -> list[tuple[str, dict]]:
    return [(path.parent.name, json.loads(path.read_text())["machine"]) for path in COMMITTED]


def test_there_are_committed_manifests_to_check():
    assert len(COMMITTED) >= 3


def test_facts_keep_every_key_a_committed_manifest_uses():
    keys = set(machine.facts())
    for name, recorded in _committed_machines():
        assert set(recorded) <= keys, f"{name}: facts() lacks {set(recorded) - keys}"


def test_facts_agree_with_independent_sources():
    facts = machine.facts()
    assert facts["cores"] == facts["logical_cores"] == os.cpu_count()
    assert facts["usable_cpus"] == sorted(os.sched_getaffinity(0))
    assert facts["kernel"] == platform.release() and facts["machine"] == platform.machine()
    # MemTotal (what facts reads) is physical memory less the kernel's reservations: at most the
    # page count times the page size that sysconf reports, and not far below it
    phys_mib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**20
    assert 0.5 * phys_mib < facts["mem_mib"] <= phys_mib + 1
    assert f": {facts['cpu_model']}\n" in Path("/proc/cpuinfo").read_text()
    assert facts["virtualized"] == ("hypervisor" in Path("/proc/cpuinfo").read_text().split())
    if shutil.which("fio"):
        assert facts["fio"] == subprocess.run(["fio", "--version"], capture_output=True, text=True).stdout.strip()
    json.dumps(facts)  # goes into manifest.json as it is


@pytest.mark.parametrize("name,recorded", _committed_machines(), ids=[p.parent.name for p in COMMITTED])
def test_label_names_the_machine_of_each_committed_manifest(name, recorded):
    text = machine.label({"machine": recorded})
    cores = recorded.get("cores", recorded.get("logical_cores"))
    assert text.startswith(f"measured on {recorded['cpu_model']}, {cores} cores, ")
    assert f"Linux {recorded['kernel']}" in text and text.endswith(" - not Xen")
    assert f"{round(recorded['mem_mib'] / 1024)} GiB" in text
    assert (", a VM," in text) == bool(recorded.get("virtualized"))


def test_label_takes_the_facts_or_a_manifest_holding_them():
    facts = machine.facts()
    assert machine.label(facts) == machine.label({"machine": facts, "experiment": "x"})
    assert facts["cpu_model"] in machine.label(facts)


def test_label_says_what_was_not_recorded():
    recorded = {"cpu_model": "Some CPU", "logical_cores": 4, "kernel": "6.1.0"}
    assert machine.describe(recorded) == "Some CPU, 4 cores, unknown memory, Linux 6.1.0"
    assert machine.label(recorded) == "measured on Some CPU, 4 cores, unknown memory, Linux 6.1.0 - not Xen"
