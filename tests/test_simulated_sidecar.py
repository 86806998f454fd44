"""analysis.simulated.sidecar: the one reader of data/simulated; a broken sidecar or CSV of any data
set is one sentence naming file, field, expected and found."""

import json
import shutil
from pathlib import Path

import pytest

from analysis import paths
from analysis.errors import SimulatedDataError
from analysis.simulated import grants, sidecar

DATA = Path(__file__).resolve().parents[1] / "data"
NAME = "grants-cliff-simulated"


@pytest.fixture
def data_copy(tmp_path):
    shutil.copytree(DATA / paths.SIMULATED, tmp_path / paths.SIMULATED)
    return tmp_path


def test_every_bundled_data_set_reads_with_its_sidecar():
    for name in grants.DATASETS:
        table, side = sidecar.read(DATA, name)
        assert len(table) > 0 and side["simulated"] is True and side["file"] == f"{name}.csv"


@pytest.mark.parametrize("change, message", [
    (lambda d: (d / "simulated" / f"{NAME}.json").unlink(),
     rf"{NAME}\.json: expected the sidecar JSON of {NAME}\.csv, found no such file$"),
    (lambda d: (d / "simulated" / f"{NAME}.json").write_text("[1, 2]"),
     r"field '\(top level\)': expected a JSON object, found list$"),
    (lambda d: (d / "simulated" / f"{NAME}.json").write_text(json.dumps({"simulated": "yes"})),
     r"field 'simulated': expected true, found 'yes'$"),
    (lambda d: (d / "simulated" / f"{NAME}.csv").unlink(),
     rf"{NAME}\.csv: expected the simulated data set \(make data-simulated\), found no such file$"),
    (lambda d: (d / "simulated" / f"{NAME}.csv").write_text(""),
     rf"{NAME}\.csv: expected a CSV table, found unreadable content"),
], ids=["no sidecar", "not an object", "not simulated", "no csv", "empty csv"])
def test_a_broken_data_set_is_one_sentence(data_copy, change, message):
    change(data_copy)
    with pytest.raises(SimulatedDataError, match=message) as caught:
        grants.read(data_copy, NAME)
    assert "\n" not in str(caught.value)


def test_the_writers_checks_run_on_the_sidecar_and_the_table(data_copy):
    seen = []
    sidecar.read(data_copy, NAME, check_sidecar=lambda path, side: seen.append(path.name),
                 check_table=lambda path, table, side: seen.append(path.name))
    assert seen == [f"{NAME}.json", f"{NAME}.csv"]
