"""The simulated unmap costs of notebook 04 (analysis.simulated.shootdown): reproducible from their
sidecar, fit-recoverable, and refused with one clear sentence when corrupted."""

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.errors import PgrantLabError, SimulatedDataError
from analysis.models import ShootdownModel, unmap_ns
from analysis.simulated import shootdown as simulate

ROOT = Path(__file__).resolve().parents[1]
COMMITTED = ROOT / "data" / "simulated"


@pytest.fixture()
def data_copy(tmp_path):
    """A data_dir holding a copy of the committed simulated unmap costs, for corrupting."""
    folder = tmp_path / "simulated"
    folder.mkdir()
    for suffix in (".csv", ".json"):
        shutil.copy(COMMITTED / f"{simulate.NAME}{suffix}", folder)
    return tmp_path


def test_regenerating_from_the_sidecar_reproduces_the_committed_files_byte_for_byte(tmp_path):
    side = json.loads((COMMITTED / f"{simulate.NAME}.json").read_text())
    simulate.write(tmp_path, simulate.regenerate(side), side)
    for suffix in (".csv", ".json"):
        assert (tmp_path / f"{simulate.NAME}{suffix}").read_bytes() == \
            (COMMITTED / f"{simulate.NAME}{suffix}").read_bytes()
    # The Makefile's command writes the same files (sidecar included) from the module's defaults.
    out = tmp_path / "cli"
    assert simulate.main(["--out", str(out)]) == 0
    assert (out / f"{simulate.NAME}.csv").read_bytes() == (COMMITTED / f"{simulate.NAME}.csv").read_bytes()
    assert "make data-simulated" in side["regenerate"]
    makefile = (ROOT / "Makefile").read_text()
    assert "python -m analysis.simulated.shootdown --out data/simulated" in makefile


def test_the_sidecar_names_model_function_every_parameter_with_unit_noise_seed_and_designs():
    table, side = simulate.read(ROOT / "data")
    assert side["simulated"] is True and side["file"] == f"{simulate.NAME}.csv" and "simulated" in side["file"]
    assert side["function"] == f"{unmap_ns.__module__}.{unmap_ns.__name__}"
    assert {p.name: p.unit for p in ShootdownModel.parameters} == \
        {k: v["unit"] for k, v in side["parameters"].items()}
    assert side["noise"]["noise_share"]["unit"] == "1" and isinstance(side["seed"], int)
    assert sorted(table["design"].unique()) == sorted(side["designs"])
    label = simulate.caption(side)
    assert label.startswith("simulated: unmap_ns of ShootdownModel")
    for name, value in simulate.truth(side).items():
        assert f"{name} = {value:g}" in label


def test_the_noise_has_the_sidecars_share_around_the_noiseless_model():
    table, side = simulate.read(ROOT / "data")
    mean = unmap_ns(np.vstack([table["dom0_vcpus"], table["unmappers"]]), **simulate.truth(side))
    z = (table["unmap_ns"] / mean - 1) / side["noise"]["noise_share"]["value"]
    # 42 standard normal draws: mean within 4 standard errors of 0, standard deviation within 35% of 1.
    assert abs(z.mean()) < 4 / np.sqrt(len(z)) and 0.65 < z.std() < 1.35


def test_the_fit_on_the_committed_file_recovers_the_sidecars_parameters_within_its_intervals():
    table, side = simulate.read(ROOT / "data")
    truth = simulate.truth(side)
    b = table[table["design"] == "b"]
    fit_b = ShootdownModel(kind="contention", n_boot=200, seed=0).fit(
        b["dom0_vcpus"], b["unmap_ns"], unmappers=b["unmappers"])
    for name, value in truth.items():
        lo, hi = fit_b.ci_[name]
        assert lo <= value <= hi, (name, value, lo, hi)
        lo, hi = fit_b.ci_boot_[name]
        assert lo <= value <= hi, (name, value, lo, hi)
    # Design A (one unmapper) identifies base and per-VCPU cost only: the linear fit recovers them.
    a = table[table["design"] == "a"]
    fit_a = ShootdownModel(kind="linear", n_boot=0).fit(a["dom0_vcpus"], a["unmap_ns"])
    for name in ("base_ns", "per_vcpu_ns"):
        lo, hi = fit_a.ci_[name]
        assert lo <= truth[name] <= hi, (name, truth[name], lo, hi)


def _rewrite_json(data_dir, change):
    path = data_dir / "simulated" / f"{simulate.NAME}.json"
    side = json.loads(path.read_text())
    change(side)
    path.write_text(json.dumps(side))


def _rewrite_csv(data_dir, change):
    path = data_dir / "simulated" / f"{simulate.NAME}.csv"
    path.write_text(change(path.read_text()))


CORRUPTIONS = [
    ("sidecar missing", lambda d: (d / "simulated" / f"{simulate.NAME}.json").unlink(),
     r"shootdown-unmap-simulated\.json: expected the sidecar JSON of shootdown-unmap-simulated\.csv, "
     r"found no such file"),
    ("sidecar truncated", lambda d: (d / "simulated" / f"{simulate.NAME}.json").write_text('{"simulated": true,'),
     r"shootdown-unmap-simulated\.json: expected JSON, found a syntax error at line 1 column \d+"),
    ("parameter value not a number", lambda d: _rewrite_json(d, lambda s: s["parameters"]["base_ns"].update(value="1 us")),
     r"shootdown-unmap-simulated\.json: field 'parameters\.base_ns\.value': expected a finite number, found '1 us'"),
    ("parameter missing", lambda d: _rewrite_json(d, lambda s: s["parameters"].pop("contention")),
     r"field 'parameters': expected exactly base_ns, per_vcpu_ns, contention, found base_ns, per_vcpu_ns"),
    ("not marked simulated", lambda d: _rewrite_json(d, lambda s: s.update(simulated=False)),
     r"field 'simulated': expected true, found False"),
    ("seed not an integer", lambda d: _rewrite_json(d, lambda s: s.update(seed="zero")),
     r"field 'seed': expected an integer, found 'zero'"),
    ("csv missing", lambda d: (d / "simulated" / f"{simulate.NAME}.csv").unlink(),
     r"shootdown-unmap-simulated\.csv: expected the simulated unmap costs \(make data-simulated\), found no such file"),
    ("csv header renamed", lambda d: _rewrite_csv(d, lambda t: t.replace("unmap_ns", "unmap_us", 1)),
     r"shootdown-unmap-simulated\.csv: field 'header': expected columns design, dom0_vcpus, unmappers, unmap_ns, "
     r"found design, dom0_vcpus, unmappers, unmap_us"),
    ("csv value corrupted", lambda d: _rewrite_csv(d, lambda t: re.sub(r"(?m)^(a,4,1,)[0-9.]+", r"\1n/a", t, count=1)),
     r"shootdown-unmap-simulated\.csv: field 'unmap_ns \(row 8\)': expected a finite number >= 0, found 'n/a'"),
    ("csv rows dropped", lambda d: _rewrite_csv(d, lambda t: "\n".join(t.splitlines()[:-3]) + "\n"),
     r"field 'dom0_vcpus of design b': expected the sidecar's grid \(21 values\), found 18 rows that differ from it"),
    ("csv design unknown", lambda d: _rewrite_csv(d, lambda t: t.replace("\nb,", "\nc,")),
     r"field 'design': expected the sidecar's designs a, b in order, found a, c"),
]


@pytest.mark.parametrize("change, message", [c[1:] for c in CORRUPTIONS], ids=[c[0] for c in CORRUPTIONS])
def test_a_corrupted_sidecar_or_csv_gives_one_sentence_naming_file_field_expected_and_found(data_copy, change, message):
    change(data_copy)
    with pytest.raises(SimulatedDataError, match=message) as caught:
        simulate.read(data_copy)
    assert isinstance(caught.value, PgrantLabError)
    text = str(caught.value)
    assert "\n" not in text and text.count(". ") == 0, text


def test_the_committed_copy_reads_unchanged(data_copy):
    table, side = simulate.read(data_copy)
    pd.testing.assert_frame_equal(table, simulate.regenerate(side), check_exact=True)
