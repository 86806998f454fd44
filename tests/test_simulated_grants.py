"""analysis.simulated.grants: the committed grant-store data sets are what the code generates, each
with a sidecar naming model, policies and parameters."""

import json
from pathlib import Path

import pandas as pd

from analysis.simulated import grants as datasets


ROOT = Path(__file__).resolve().parents[1]


def test_committed_malicious_data_set_is_what_the_code_generates(tmp_path):
    table, sidecar = datasets.malicious()
    datasets.write(tmp_path, "grants-malicious-simulated", table, sidecar)
    committed = pd.read_csv(ROOT / "data/simulated/grants-malicious-simulated.csv")
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "grants-malicious-simulated.csv"), committed)
    assert json.loads((tmp_path / "grants-malicious-simulated.json").read_text()) == \
        json.loads((ROOT / "data/simulated/grants-malicious-simulated.json").read_text())


def test_every_simulated_file_has_a_sidecar_naming_model_policies_and_parameters():
    folder = ROOT / "data/simulated"
    names = {p.stem for p in folder.glob("grants-*.csv")}
    assert names == set(datasets.DATASETS)
    for name in names:
        sidecar = json.loads((folder / f"{name}.json").read_text())
        assert "simulated" in name and sidecar["simulated"] is True
        assert sidecar["model"] and sidecar["workload"] and sidecar["policies"] and sidecar["parameters"]
        assert set(pd.read_csv(folder / f"{name}.csv", nrows=1).columns) <= set(sidecar["columns"]) | {
            "label", "policy", "cap", "fallback", "m", "interval_ms", "percent_clean", "unmap_batch_pages", "unused_seconds",
            "order", "ratio", "working_set_pages", "workload"}


def test_malicious_guest_memory_stays_under_the_cap():
    table, _ = datasets.malicious(requests=300)
    capped = table[table["label"] != "non_persistent"]
    assert capped["resident_pages"].max() == datasets.ONE_PAGE_CAP
