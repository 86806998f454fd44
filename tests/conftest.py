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


# --- the mechanism benchmarks, built and measured once per session (collect and ingest tests) ---


@pytest.fixture(scope="session")
def programs(tmp_path_factory):
    from analysis.collect import mechanisms as mech

    out = tmp_path_factory.mktemp("mech-build")
    return {p: mech.build(p, out) for p in mech.PROGRAMS}


@pytest.fixture(scope="session")
def measured(tmp_path_factory, programs):
    """Every experiment measured with the tiny plans, as `make data-mechanisms` would lay it out."""
    from analysis.collect import mechanisms as mech

    memcpy_quick, lookup_quick, unmap_quick = mech.quick_plans()
    root = tmp_path_factory.mktemp("measured-here")
    build_dir = next(iter(programs.values())).parent
    mech.measure_memcpy(root / "memcpy", memcpy_quick, build_dir=build_dir)
    mech.measure_lookup(root / "gref-lookup", lookup_quick, build_dir=build_dir)
    mech.measure_unmap(root / "unmap-shootdown", unmap_quick, build_dir=build_dir)
    return root


# --- a miniature fio sweep, measured once per session (collect and ingest sweep tests) ----------

SWEEP_JOB_COUNTS = (1, 3)


@pytest.fixture(scope="session")
def mini_data(tmp_path_factory):
    """A data folder holding a 1-repetition sweep over 1 and 3 jobs with tiny runtimes."""
    from analysis import paths
    from analysis.collect import sweep as collect_sweep

    data_dir = tmp_path_factory.mktemp("data")
    collect_sweep.measure(data_dir / paths.SWEEP_DIR, reps=1, job_counts=SWEEP_JOB_COUNTS, runtime="150ms",
                  ramp_time="50ms", file_size="2M", log=lambda msg: None)
    return data_dir


@pytest.fixture(scope="session")
def mini_manifest(mini_data):
    import json

    from analysis import paths
    from analysis.ingest import sweep

    return json.loads((mini_data / paths.SWEEP_DIR / sweep.MANIFEST).read_text())
