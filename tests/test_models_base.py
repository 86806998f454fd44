"""analysis.models.base: what every fitted model shares. Honest failures (ModelFitError naming the
problem), Notes for soft problems with NaN where nothing can be said, settings validated at fit,
what-if fits and predictions, the bootstrap band, summaries, JSON and the AIC/BIC comparison."""

import json
import math

import numpy as np
import pytest

from analysis.errors import ModelFitError, UsageError
from analysis.models import (USL, Amdahl, Linear, LookupModel, MemcpyModel, ShootdownModel, compare,
                             unmap_ns, usl)
from tests.fit_coverage import GUESTS, noisy


def test_fewer_points_than_parameters_raises_naming_the_parameters():
    with pytest.raises(ModelFitError, match=r"USL fit: fewer points than parameters: 2 point\(s\) "
                       r"cannot determine 3 parameters \(lambda, sigma, kappa\)"):
        USL().fit([5, 10], [650_000, 400_000])


def test_non_finite_input_raises_naming_the_first_bad_point():
    with pytest.raises(ModelFitError, match=r"expected finite x and y, found 1 non-finite point\(s\) "
                       r"\(first at index 2\)"):
        USL().fit([1, 2, 3, 4], [1.0, 2.0, math.nan, 3.5])


def test_mismatched_lengths_raise():
    with pytest.raises(ModelFitError, match="expected x and y of the same length, found 3 and 2"):
        MemcpyModel().fit([1, 2, 3], [1.0, 2.0])


def test_no_convergence_raises():
    with pytest.raises(ModelFitError, match="USL fit: no convergence: "):
        USL(max_nfev=1, n_boot=0).fit(GUESTS, usl(GUESTS, lam=1e5, sigma=0.1, kappa=0.01) * (1 + 0.05 * np.sin(GUESTS)))


def test_exact_fit_has_no_intervals_and_says_so():
    model = USL(n_boot=50).fit([1, 5, 10], [150_000, 650_000, 400_000])
    assert all(math.isnan(v) for v in model.stderr_.values())
    assert all(math.isnan(lo) and math.isnan(hi) for lo, hi in model.ci_.values())
    assert all(math.isnan(lo) and math.isnan(hi) for lo, hi in model.ci_boot_.values())
    assert any("no residual degrees of freedom" in n for n in model.notes_)


def test_unidentified_parameter_gets_nan_and_a_note():
    rng = np.random.default_rng(3)
    vcpus = np.array([1.0, 2, 4, 8, 16, 24] * 2)
    y = noisy(rng, unmap_ns(np.vstack([vcpus, np.ones_like(vcpus)]), base_ns=500,
                             per_vcpu_ns=200, contention=0.3))
    model = ShootdownModel(kind="contention", n_boot=100).fit(vcpus, y)  # no unmappers varied
    assert math.isnan(model.stderr_["contention"])
    assert all(math.isnan(v) for v in model.ci_["contention"] + model.ci_boot_["contention"])
    assert any(n.startswith("contention is not identified") for n in model.notes_)
    assert math.isfinite(model.stderr_["per_vcpu_ns"])


def test_parameter_at_bound_is_a_note_or_an_error_on_request():
    y = 1000.0 * GUESTS / (1 + 0.1 * (GUESTS - 1))  # Amdahl data: kappa's best value is 0
    model = USL(n_boot=0).fit(GUESTS, y)
    assert any(n.startswith("kappa is at its bound") for n in model.notes_)
    with pytest.raises(ModelFitError, match="USL fit: kappa is at its bound"):
        USL(n_boot=0, on_bound="raise").fit(GUESTS, y)


@pytest.mark.parametrize("settings_,message", [
    ({"bootstrap": "jackknife"}, "bootstrap='jackknife': expected 'residual' or 'case'"),
    ({"on_bound": "ignore"}, "on_bound='ignore': expected 'note' or 'raise'"),
    ({"n_boot": -1}, "n_boot=-1: expected an integer >= 0"),
    ({"fixed": {"gamma": 1.0}}, "parameter 'gamma': expected one of"),
])
def test_bad_settings_raise_usage_error_at_fit(settings_, message):
    model = USL(**settings_)  # settings are stored unchanged; fit validates them
    with pytest.raises(UsageError, match=message.replace("[", r"\[").replace("(", r"\(")):
        model.fit(GUESTS, 1000 * GUESTS)


def test_special_cases_and_comparison_prefer_the_generating_model():
    rng = np.random.default_rng(5)
    y = noisy(rng, usl(GUESTS, lam=1e4, sigma=0.05, kappa=0.005))
    fits = {"usl": USL(n_boot=0).fit(GUESTS, y), "amdahl": Amdahl(n_boot=0).fit(GUESTS, y),
            "linear": Linear(n_boot=0).fit(GUESTS, y)}
    assert fits["amdahl"].params_["kappa"] == 0 and fits["linear"].params_["sigma"] == 0
    table = compare(fits)
    assert table.index[0] == "usl"
    assert table["akaike_weight"].sum() == pytest.approx(1.0)
    y_lin = noisy(rng, 500.0 * GUESTS)
    table = compare({"usl": USL(n_boot=0).fit(GUESTS, y_lin),
                     "linear": Linear(n_boot=0).fit(GUESTS, y_lin)})
    assert table["bic"].idxmin() == "linear"


def test_fixed_parameters_give_what_if_fits_and_overrides_give_what_if_predictions():
    y = usl(GUESTS, lam=1e4, sigma=0.05, kappa=0.005)
    model = USL(n_boot=0, fixed={"sigma": 0.05}).fit(GUESTS, y)
    assert model.params_["kappa"] == pytest.approx(0.005, rel=1e-6)
    np.testing.assert_allclose(model.predict(GUESTS, kappa=0.0),
                               usl(GUESTS, lam=model.params_["lambda"], sigma=0.05, kappa=0.0))


def test_summary_prints_a_table_with_units_both_intervals_and_notes():
    model = USL(n_boot=100, x_unit="guests", y_unit="IOPS").fit(
        [1, 2, 3, 4], usl(np.array([1.0, 2, 3, 4]), lam=1e5, sigma=0.1, kappa=0.01) * [1, 1.01, 0.99, 1])
    text = str(model.summary())
    assert "USL fit: throughput [IOPS] vs concurrency [guests]" in text
    assert "IOPS/guests" in text and "95% CI (covariance)" in text and "bootstrap, 100 residual" in text
    assert "Notes:\n[1] " in text and "only 4 points for 3 parameters" in text
    page = model.summary()._repr_html_()
    assert page.count("<tr>") == 4 and "<ol><li>" in page


def test_to_dict_is_json_with_the_issue_shape_and_nan_as_null():
    model = USL(n_boot=0, x_unit="guests", y_unit="IOPS").fit([1, 5, 10], [150_000, 650_000, 400_000])
    out = json.loads(json.dumps(model.to_dict(), allow_nan=False))
    assert out["model"] == "USL" and out["n"] == 3
    assert set(out["params"]) == {"lambda", "sigma", "kappa"}
    assert out["params"]["lambda"]["unit"] == "IOPS/guests"
    assert out["params"]["kappa"]["ci95"] == [None, None]


def test_predict_band_brackets_the_fitted_curve():
    rng = np.random.default_rng(8)
    y = noisy(rng, usl(GUESTS, lam=1e4, sigma=0.05, kappa=0.005))
    model = USL(n_boot=300, seed=1).fit(GUESTS, y)
    lo, hi = model.predict_band(GUESTS)
    fitted = model.predict(GUESTS)
    assert np.all(lo <= fitted) and np.all(fitted <= hi)
    # X(1) = lambda, so the band at one guest is the bootstrap interval of lambda.
    assert (lo[0], hi[0]) == pytest.approx(model.ci_boot_["lambda"], rel=1e-9)
    assert np.all(np.isnan(USL(n_boot=0).fit(GUESTS, y).predict_band(GUESTS)[0]))


@pytest.mark.parametrize("make,x,message", [
    (USL, [0.0, 1, 2, 3], r"USL fit: expected concurrency > 0, found 0 \(index 0\)"),
    (lambda: LookupModel(kind="log"), [1.0, 2, 0.5, 8], r"Lookup \(log\) fit: expected grants mapped >= 1, found 0.5 \(index 2\)"),
    (MemcpyModel, [64.0, -1, 128], r"Memcpy fit: expected bytes copied >= 0, found -1 \(index 1\)"),
    (ShootdownModel, [1.0, 2, -1], r"Shootdown fit: expected dom0_vcpus >= 0, found -1 \(index 2\)"),
])
def test_x_outside_the_model_domain_raises(make, x, message):
    with pytest.raises(ModelFitError, match=message):
        make().fit(np.array(x), np.arange(1.0, len(x) + 1))


def test_bootstrap_can_move_a_parameter_off_the_bound_the_fit_put_it_on():
    rng = np.random.default_rng(21)
    for _ in range(50):  # noisy Amdahl data: kappa's best value is 0 in about half the draws
        y = noisy(rng, usl(GUESTS, lam=1e4, sigma=0.1, kappa=0.0))
        model = USL(n_boot=200, seed=2).fit(GUESTS, y)
        if any(n.startswith("kappa is at its bound") for n in model.notes_):
            break
    else:
        pytest.fail("no draw put kappa on its bound")
    lo, hi = model.ci_boot_["kappa"]
    assert lo >= 0 and hi > 1e-6  # refits started on the bound used to stay there: [0, 0]


def test_summary_frame_has_one_row_per_parameter():
    y = usl(GUESTS, lam=1e4, sigma=0.05, kappa=0.005)
    frame = Amdahl(n_boot=0).fit(GUESTS, y).summary().to_frame()
    assert list(frame.index) == ["lambda", "sigma", "kappa"]
    assert frame.loc["kappa", "fixed"] and np.isnan(frame.loc["kappa", "ci95_lo"])
    assert frame.loc["lambda", "ci95_lo"] < frame.loc["lambda", "value"] < frame.loc["lambda", "ci95_hi"]
