"""analysis.models.MedianLine: a straight line through per-x medians recovers a known line from
skewed samples; its bootstrap intervals and band cover the truth about as often as they claim."""

import numpy as np
import pandas as pd
import pytest

from analysis.errors import ModelFitError
from analysis.models import MedianLine


def _skewed_line_samples(seed: int, intercept: float, slope: float) -> pd.DataFrame:
    """Samples of intercept + slope * k with right-skewed noise of median 0 (preemption-like tails)."""
    rng = np.random.default_rng(seed)
    x = np.repeat([0, 1, 2, 3], 300)
    noise = rng.lognormal(mean=np.log(300), sigma=1.0, size=x.size) - 300
    return pd.DataFrame({"k": x, "ns": intercept + slope * x + noise})


def _fit(samples: pd.DataFrame, **settings) -> MedianLine:
    return MedianLine(**settings).fit(samples["k"], samples["ns"])


def test_recovers_a_known_line_from_noisy_samples():
    intercept, slope = 4000.0, 9000.0
    fit = _fit(_skewed_line_samples(7, intercept, slope))
    assert abs(fit.params_["slope"] - slope) < 0.02 * slope
    assert abs(fit.params_["intercept"] - intercept) < 0.02 * intercept
    assert np.allclose(fit.predict([0, 10]), [fit.params_["intercept"], fit.params_["intercept"] + 10 * fit.params_["slope"]])
    assert list(fit.points_["samples"]) == [300] * 4 and fit.n_ == 4


def test_intervals_cover_the_truth_about_as_often_as_they_claim():
    intercept, slope = 4000.0, 9000.0
    fits = [_fit(_skewed_line_samples(seed, intercept, slope), n_boot=200) for seed in range(40)]
    slope_cover = np.mean([f.ci_["slope"][0] <= slope <= f.ci_["slope"][1] for f in fits])
    intercept_cover = np.mean([f.ci_["intercept"][0] <= intercept <= f.ci_["intercept"][1] for f in fits])
    assert slope_cover >= 0.8 and intercept_cover >= 0.8, (slope_cover, intercept_cover)


def test_band_is_the_bootstrap_of_the_line_and_brackets_it():
    fit = _fit(_skewed_line_samples(3, 4000.0, 9000.0), n_boot=200)
    x = np.array([0.0, 1.5, 3.0])
    lo, hi = fit.predict_band(x)
    assert np.all(lo <= fit.predict(x)) and np.all(fit.predict(x) <= hi)
    # At x = 0 the line is its intercept: the band there is the intercept's interval.
    assert (lo[0], hi[0]) == pytest.approx(fit.ci_["intercept"])
    narrow = fit.predict_band(x, level=0.5)
    assert np.all(narrow[0] >= lo) and np.all(narrow[1] <= hi)


def test_summary_has_both_parameters_with_units():
    fit = MedianLine(x_unit="CPUs", y_unit="ns").fit(*_skewed_line_samples(1, 4000.0, 9000.0).to_numpy().T)
    text = str(fit.summary())
    assert "intercept" in text and "slope" in text and "ns/CPUs" in text


def test_needs_two_x_values_and_finite_input():
    with pytest.raises(ModelFitError, match="expected at least 2 distinct x values, found 1"):
        MedianLine().fit([1, 1], [1.0, 2.0])
    with pytest.raises(ModelFitError, match="expected finite x and y, found NaN or inf"):
        MedianLine().fit([1, 2], [1.0, np.nan])
