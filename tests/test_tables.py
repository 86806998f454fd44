"""analysis.tables: the one table formatter (units, rounding, notes for undefined values, order)."""

import math
import re

import numpy as np
import pandas as pd
import pytest

from analysis import tables
from analysis.models import USL
from analysis.models.usl import usl


@pytest.mark.parametrize(("value", "text"), [
    (650_000.0, "650k"), (1_250_000.0, "1.25M"), (2.75, "2.75"), (54.0, "54"), (0.0, "0"),
    (-0.0, "0"), (-0.0001, "-1e-4"), (4096, "4096"), (0.0123456, "0.0123"), (12345.6, "12.3k"),
    (-3.2e-14, "-3.2e-14"), (1.819093e-14, "1.82e-14"), (9.9e22, "9.9e22"),
])
def test_human_rounds_for_reading(value, text):
    assert tables.human(value) == text


def test_units_move_into_headers_and_columns_scale_to_one_unit():
    table = pd.DataFrame({"clat_p99_ns": [1720.0, 6752.0], "bw_bytes_s": [3.0e9, 1.1e10],
                          "iops": [742_496.5, 175_449.6], "mem_mib": [2.75, 11.0]})
    t = tables.format_table(table)
    assert list(t.frame.columns) == ["clat p99 (\u00b5s)", "bandwidth (GiB/s)", "IOPS", "mem (MiB)"]
    assert tables.header("clat_p99_9", "ns") == "clat p99.9 (ns)"
    assert list(t.frame.iloc[:, 0]) == ["1.72", "6.75"]
    assert list(t.frame["IOPS"]) == ["742k", "175k"]
    assert list(t.frame["mem (MiB)"]) == ["2.75", "11"]
    assert t.notes == []


def test_undefined_values_are_em_dashes_with_numbered_reasons_never_nan_inf_or_minus_zero():
    table = pd.DataFrame({"name": ["a", "b", "c"], "stderr": [math.nan, 1.0, 2.0],
                          "ratio": [math.inf, -0.0, 0.5], "ci": [(math.nan, math.nan), (1.0, 2.0), (0.5, 3.0)]})
    t = tables.format_table(table, why={"stderr": "exact fit: no residual degrees of freedom"})
    html = t.to_html()
    cells = re.findall(r"<td[^>]*>(.*?)</td>", html)
    assert not any(re.fullmatch(r"-?(nan|inf)|-0(\.0+)?|\[nan, nan\]", c, re.I) for c in cells)
    assert t.notes == ["exact fit: no residual degrees of freedom", tables.WHY_INF, tables.WHY_NAN]
    assert t.frame["stderr"][0] == "\u2014<sup>1</sup>" and t.frame["ratio"][0] == "\u2014<sup>2</sup>"
    assert t.frame["ratio"][1] == "0" and t.frame["ci"][1] == "1 to 2" and t.frame["ci"][0] == "\u2014<sup>3</sup>"
    assert '<ol class="pgrant-notes"><li>exact fit' in html


def test_floating_point_noise_beside_real_values_reads_zero():
    t = tables.format_table(pd.DataFrame({"service_us": [4.27, -5.05e-16], "k": [1e-12, 2e-12]}))
    assert list(t.frame.iloc[:, 0]) == ["4.27", "0"]
    assert list(t.frame["k"]) == ["1e-12", "2e-12"]  # small but not noise: the column is all small


def test_text_left_numbers_right_no_index_and_integer_floats_as_integers():
    table = pd.DataFrame({"order": [0.0, 1.0, 2.0], "abi": ["x86_64"] * 3}).set_index("abi")
    t = tables.format_table(table)
    assert list(t.frame.columns) == ["abi", "order"]
    assert list(t.frame["order"]) == ["0", "1", "2"]
    html = t.to_html()
    assert '<th class="text">abi</th>' in html and '<th class="num">order</th>' in html
    assert '<td class="num">0</td>' in html
    plain = tables.format_table(pd.DataFrame({"x": [1, 2]}))
    assert list(plain.frame.columns) == ["x"]  # a default RangeIndex is dropped, not shown


def test_block_sizes_sort_by_value_in_rows_and_in_pivoted_columns():
    rows = pd.DataFrame({"bs": ["128k", "44k", "4k", "512k"], "verdict": ["a", "b", "c", "d"]})
    assert list(tables.format_table(rows).frame["bs"]) == ["4k", "44k", "128k", "512k"]
    grouped = pd.DataFrame({"mode": ["p", "p", "n", "n"], "bs": ["64k", "4k", "64k", "4k"], "iops": [1, 2, 3, 4]})
    assert list(tables.format_table(grouped).frame["bs"]) == ["4k", "64k", "4k", "64k"]
    pivot = pd.DataFrame({"dom0_vcpus": [2, 2, 4, 4], "bs": ["64k", "4k", "64k", "4k"], "v": list("wxyz")}) \
        .pivot(index="dom0_vcpus", columns="bs", values="v")
    t = tables.format_table(pivot)
    assert list(t.frame.columns) == ["dom0 VCPUs", "bs = 4k", "bs = 64k"]


def test_a_series_and_a_multiindex_become_plain_columns():
    s = pd.Series([10, 20], index=pd.Index(["psync", "libaio"], name="ioengine"), name="completed I/Os")
    t = tables.format_table(s)
    assert list(t.frame.columns) == ["ioengine", "completed I/Os"]
    assert "dtype" not in t.to_html() and "Name:" not in t.to_html()


def _two_point_exact_fit():
    return USL(fixed={"sigma": 0.0}, n_boot=0, x_unit="guests", y_unit="IOPS").fit(
        np.array([5.0, 10.0]), np.array([650_000.0, 400_000.0]))


def test_an_exact_fit_says_why_it_has_no_intervals():
    t = tables.fit_table(_two_point_exact_fit().summary())
    html = t.to_html()
    assert tables.WHY_EXACT_FIT in t.notes
    assert not re.search(r">\s*-?(nan|inf)\s*<|nan%|\+/- nan|AIC nan|\[nan", html, re.I)
    assert "AIC \u2014" in html


def test_a_fit_that_recovers_known_parameters_has_no_undefined_cells():
    rng = np.random.default_rng(0)
    n = np.arange(1, 13, dtype=float)
    truth = usl(n, lam=1000.0, sigma=0.05, kappa=0.002)
    fit = USL(n_boot=50, seed=1).fit(n, truth * (1 + 0.01 * rng.standard_normal(n.size)))
    t = tables.fit_table(fit.summary())
    assert abs(fit.params_["lambda"] - 1000.0) / 1000.0 < 0.05
    assert not any("\u2014" in str(v) for v in t.frame.to_numpy().ravel())
    assert tables.WHY_EXACT_FIT not in t.notes
