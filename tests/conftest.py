"""Shared fixtures."""

from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import settings

# Hypothesis fails an example that takes longer than its deadline (200 ms by default): a wall-clock
# assertion that flakes on a loaded 2-core CI. Our tests never assert durations, so no deadline.
settings.register_profile("pgrant-lab", deadline=None)
settings.load_profile("pgrant-lab")


@dataclass
class LoopbackExperiment:
    folder: Path
    plan: object
    rows: list


@pytest.fixture(scope="session")
def loopback_experiment(tmp_path_factory):
    """A real experiment folder: the kit's plan run by fio client/server on 127.0.0.1..4 (~20 s).

    Two stand-in modes (analysis.collect.loopback.STAND_IN_MODES: "persistent" runs the kit's job file
    exactly as `kit.write` wrote it, "non-persistent" the same job with fio's mmap engine),
    4 guest counts, one block size, 1 s per run. Tests must not modify it (copy it first).
    """
    from analysis.collect import kit, loopback

    plan = kit.Plan(guests=[1, 2, 3, 4], dom0_vcpus=[2], modes=list(kit.MODES), bs=["4k"], runs=1,
                    rw="randread", iodepth=1, ioengine="psync", direct=False, runtime_s=1, ramp_s=0,
                    size="2m", filename=loopback.GUEST_FILE)
    folder = tmp_path_factory.mktemp("loopback") / "experiment"
    loopback.run_plan(plan, folder, progress=False)
    return LoopbackExperiment(folder=folder, plan=plan, rows=plan.conditions())
