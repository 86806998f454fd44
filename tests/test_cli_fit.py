"""``pgrant-lab fit``: summaries and JSON for seeded synthetic tables, one-line errors (exit 2), and the
flush-path models (MVA, lock collapse) predicting unfitted guest counts inside their 95% band (the
issue's "done when", through the CLI as a user runs it; parameters from tests/flush_truth.py)."""

import json

import numpy as np
import pandas as pd
import pytest

from tests.cli_run import run_cli
from analysis.errors import ModelFitError
from analysis.models import usl
from analysis.models.lock_collapse import LockCollapse, collapse_iops
from analysis.models.mva import mva_iops
from tests.flush_truth import CHAIN, FITTED, MVA, noisy, stack

TRUE = {"persistent": {"lam": 9e4, "sigma": 0.02, "kappa": 0.0},
        "non-persistent": {"lam": 1.5e5, "sigma": 0.05, "kappa": 0.01}}


@pytest.fixture
def sweep_csv(tmp_path):
    rng = np.random.default_rng(11)
    guests = np.repeat(np.arange(1.0, 13), 2)
    parts = []
    for mode, p in TRUE.items():
        y = usl(guests, **p)
        parts.append(pd.DataFrame({"guests": guests, "iops": y + 0.02 * y.max() * rng.standard_normal(y.size),
                                   "mode": mode}))
    path = tmp_path / "sweep.csv"
    pd.concat(parts).to_csv(path, index=False)
    return path


def _run(argv, capsys):
    return run_cli(["fit", *argv], capsys)


def test_json_by_group_has_the_issue_shape_and_covers_the_truth(sweep_csv, capsys):
    code, out, err = _run([str(sweep_csv), "--model", "usl", "--x", "guests", "--y", "iops",
                           "--by", "mode", "--json", "--boot", "200"], capsys)
    assert code == 0, err
    doc = json.loads(out)
    assert doc["by"] == "mode" and [g["group"] for g in doc["groups"]] == ["non-persistent", "persistent"]
    for group in doc["groups"]:
        assert group["model"] == "USL" and group["n"] == 24
        truth = TRUE[group["group"]]
        for name, key in (("lambda", "lam"), ("sigma", "sigma"), ("kappa", "kappa")):
            p = group["params"][name]
            assert set(p) >= {"value", "unit", "ci95"}
            lo, hi = p["ci95"]
            assert lo <= p["value"] <= hi
            # One seeded data set: the truth is within 4 standard errors (the coverage *rate* of
            # ci95 is tested over 200 trials in test_models_usl.py).
            assert abs(p["value"] - truth[key]) <= 4 * p["stderr"], (group["group"], name, p)
        assert group["params"]["lambda"]["unit"] == "iops/guests"


def test_text_output_prints_one_summary_per_group(sweep_csv, capsys):
    code, out, _ = _run([str(sweep_csv), "--model", "amdahl", "--x", "guests", "--y", "iops",
                         "--by", "mode", "--boot", "0"], capsys)
    assert code == 0
    assert out.count("Amdahl fit: throughput [iops] vs concurrency [guests]") == 2
    assert "mode = persistent" in out and "mode = non-persistent" in out
    assert out.count("0 (fixed)") == 2


def test_json_without_by_is_one_object(sweep_csv, capsys):
    code, out, _ = _run([str(sweep_csv), "--model", "linear", "--x", "guests", "--y", "iops",
                         "--json", "--boot", "0"], capsys)
    doc = json.loads(out)
    assert code == 0 and doc["model"] == "Linear" and doc["n"] == 48 and "groups" not in doc


@pytest.mark.parametrize("argv,message", [
    (["--y", "total"], "{path}: column 'total' not found; the columns are guests, iops, mode"),
    (["--y", "mode"], "{path}: column 'mode': expected finite numbers, found 'persistent' in data row 1"),
    (["--y", "iops", "--by", "nope"], "{path}: column 'nope' not found"),
])
def test_bad_columns_exit_2_with_one_line_naming_file_and_column(sweep_csv, capsys, argv, message):
    code, out, err = _run([str(sweep_csv), "--model", "usl", "--x", "guests"] + argv, capsys)
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("pgrant-lab fit: " + message.format(path=sweep_csv))


def test_too_few_points_exit_2_naming_the_group_and_columns(tmp_path, capsys):
    path = tmp_path / "two.csv"
    path.write_text("guests,iops,mode\n5,650000,a\n10,400000,a\n1,1,b\n2,2,b\n3,3,b\n")
    code, _, err = _run([str(path), "--model", "usl", "--x", "guests", "--y", "iops", "--by", "mode"], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert err.startswith(f"pgrant-lab fit: {path} (mode=a): columns 'guests'/'iops': USL fit: fewer "
                          f"points than parameters: 2 point(s) cannot determine 3 parameters")


def test_missing_file_and_unknown_model_exit_2(tmp_path, capsys):
    code, _, err = _run([str(tmp_path / "none.csv"), "--model", "usl", "--x", "a", "--y", "b"], capsys)
    assert code == 2 and err.strip() == f"pgrant-lab fit: {tmp_path / 'none.csv'}: file not found"
    code, _, err = _run([str(tmp_path / "none.csv"), "--model", "gunther", "--x", "a", "--y", "b"], capsys)
    assert code == 2 and "invalid choice: 'gunther'" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("text,message", [
    ("guests,iops\n1,100\n2,NaN\n3,300\n4,400\n", "column 'iops': expected finite numbers, found an empty or NaN cell in data row 2"),
    ("guests,iops\n1,100\n2,200\n3,\n4,400\n", "column 'iops': expected finite numbers, found an empty or NaN cell in data row 3"),
    ("guests,iops\n1,100\n2,200\n3,-inf\n4,400\n", "column 'iops': expected finite numbers, found '-inf' in data row 3"),
    ("guests,iops\n", "expected data rows after the header, found none"),
])
def test_non_finite_values_and_no_rows_exit_2_naming_file_column_and_row(tmp_path, capsys, text, message):
    path = tmp_path / "t.csv"
    path.write_text(text)
    code, out, err = _run([str(path), "--model", "usl", "--x", "guests", "--y", "iops"], capsys)
    assert (code, out, err) == (2, "", f"pgrant-lab fit: {path}: {message}\n")


def test_a_folder_as_table_exits_2(tmp_path, capsys):
    code, _, err = _run([str(tmp_path), "--model", "usl", "--x", "guests", "--y", "iops"], capsys)
    assert code == 2 and err == f"pgrant-lab fit: {tmp_path}: expected a CSV file, found a folder\n"


def test_a_negative_seed_exits_2(tmp_path, capsys):
    path = tmp_path / "t.csv"
    path.write_text("guests,iops\n1,100\n2,190\n3,270\n4,340\n5,400\n")
    code, out, err = _run([str(path), "--model", "usl", "--x", "guests", "--y", "iops", "--seed", "-1"], capsys)
    assert (code, out, err) == (2, "", "pgrant-lab fit: --seed -1: expected an integer >= 0 (numpy seeds are non-negative)\n")


def test_a_row_without_a_by_group_exits_2_instead_of_being_dropped(tmp_path, capsys):
    path = tmp_path / "t.csv"
    path.write_text("guests,iops,mode\n1,100,a\n2,190,a\n3,270,\n4,340,a\n")
    code, out, err = _run([str(path), "--model", "linear", "--x", "guests", "--y", "iops", "--by", "mode"], capsys)
    assert (code, out) == (2, "")
    assert err == f"pgrant-lab fit: {path}: column 'mode' (--by): expected a group in every row, found an empty cell in data row 3\n"


HELD_OUT = np.array([9, 10, 12, 16], dtype=float)


@pytest.fixture
def chain_csv(tmp_path):
    path = tmp_path / "chain.csv"
    pd.DataFrame({"guests": FITTED.astype(int), "iops": noisy(collapse_iops, CHAIN, FITTED, 3)}).to_csv(path, index=False)
    return path


@pytest.fixture
def mva_csv(tmp_path):
    path = tmp_path / "mva.csv"
    pd.DataFrame({"guests": FITTED.astype(int), "iops": noisy(mva_iops, MVA, FITTED, 4)}).to_csv(path, index=False)
    return path


@pytest.mark.parametrize("model, csv, func, truth", [
    ("lock-collapse", "chain_csv", collapse_iops, CHAIN),
    ("mva", "mva_csv", mva_iops, MVA),
])
def test_cli_predicts_unfitted_guest_counts_inside_the_95_band(model, csv, func, truth, request, capsys):
    path = request.getfixturevalue(csv)
    code, out, err = _run([str(path), "--model", model, "--x", "guests", "--y", "iops",
                           "--predict", "9,10,12,16", "--json", "--boot", "300"], capsys)
    assert code == 0, err
    doc = json.loads(out)
    true_y = func(stack(HELD_OUT), **truth)
    assert [p["x"] for p in doc["predictions"]] == HELD_OUT.tolist()
    for p, y in zip(doc["predictions"], true_y):
        lo, hi = p["ci95"]
        assert lo <= y <= hi, (p, y)
        assert lo <= p["y"] <= hi


def test_non_integer_guests_are_refused_by_fit_and_cli(chain_csv, capsys):
    with pytest.raises(ModelFitError, match="whole number"):
        LockCollapse(n_boot=0).fit([1.5, 2, 3, 4], [1.0, 2.0, 3.0, 4.0])
    code, out, err = _run([str(chain_csv), "--model", "mva", "--x", "guests", "--y", "iops",
                           "--predict", "9,10.5"], capsys)
    assert code == 2 and "--predict 9,10.5" in err and "10.5" in err and "Traceback" not in err
    code, out, err = _run([str(chain_csv), "--model", "usl", "--x", "guests", "--y", "iops",
                           "--predict", "9,ten"], capsys)
    assert code == 2 and "'ten'" in err


def test_usl_prediction_table_is_printed(chain_csv, capsys):
    code, out, err = _run([str(chain_csv), "--model", "usl", "--x", "guests", "--y", "iops",
                           "--predict", "12", "--boot", "50"], capsys)
    assert code == 0, err
    assert "Predictions" in out and "95% band" in out
