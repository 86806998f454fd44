"""The one table formatter of the report: every table a page shows goes through :func:`format_table`.

A table is shown the way a person reads it, not the way pandas prints it:

- units in the headers, taken from the column names' suffixes (``latency_ns`` -> "latency (us)",
  ``bw_bytes_s`` -> "bw (MiB/s)", ``iops`` -> "IOPS"); a column in bytes or ns is scaled to one
  unit per column (the one that suits its median), so the header states it once;
- human rounding: three significant digits, thousands as ``k``/``M``/``G`` (650k IOPS), integers as
  integers (a ring order is ``0``, never ``0.0``), no ``-0``;
- no index: a meaningful index (named, or several levels) becomes leading columns;
- text left-aligned, numbers right-aligned; block sizes ("4k", "128k") sorted by their value;
- an undefined value (NaN, inf) is an em dash with a numbered note saying why, never ``nan``;
- the CSV beside the table holds the data unrounded (:func:`show`).

:func:`show` and :func:`show_figure` are what notebooks call; inside ``pgrant-lab report``
(analysis.site.capture) they also write ``<page>-data/<name>.csv`` next to the page and link it.
:func:`refusal` shows an expected refusal (a fit with too few points) as a sentence.
"""

from __future__ import annotations

import html
import math
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

EM_DASH = "\u2014"
# A value smaller than this share of its column's largest is shown as 0 (floating-point noise).
NOISE_SHARE = 1e-9
# Why a value is undefined when the caller does not say: the generic reasons, by kind.
WHY_NAN = "not defined for this row"
WHY_INF = "infinite: the quantity diverges for this row"

# Columns whose undefined values have one cause wherever they appear: analysis.models.base sets a
# fit's AIC, BIC and residual standard error to NaN exactly when no residual degrees of freedom remain.
_EXACT = "exact fit: no residual degrees of freedom (as many free parameters as points)"
DEFAULT_WHY = {name: _EXACT for name in ("aic", "bic", "rse", "delta_aic", "akaike_weight")}

# Column-name suffix -> (kind, unit shown). Longest suffix first (``_bytes_s`` before ``_s``).
_SUFFIXES = [
    ("_bytes_s", "bytes_s"), ("_bytes", "bytes"), ("_mib", "MiB"), ("_kib", "KiB"), ("_gib", "GiB"),
    ("_ns", "ns"), ("_us", "us"), ("_ms", "ms"), ("_pct", "%"), ("_iops", "IOPS"),
]
_TIME_UNITS = [("s", 1e9), ("ms", 1e6), ("\u00b5s", 1e3), ("ns", 1.0)]
_BYTE_UNITS = [("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10), ("bytes", 1)]
_SIZE_TEXT = re.compile(r"^\s*\d+(\.\d+)?\s*([kmgt]i?b?|b)?\s*$", re.IGNORECASE)
# Words that read better in capitals in a header.
_WORDS = {"iops": "IOPS", "cpu": "CPU", "cpus": "CPUs", "vcpus": "VCPUs", "bw": "bandwidth", "usl": "USL",
          "aic": "AIC", "bic": "BIC", "rss": "RSS", "ci95": "95% CI", "tlb": "TLB", "ipi": "IPI"}


@dataclass
class Table:
    """A formatted table: ``frame`` (strings, as shown), ``numeric`` (which columns are numbers),
    ``notes`` (numbered reasons for the em dashes), ``data`` (the unrounded table, for the CSV)."""

    frame: pd.DataFrame
    numeric: dict
    notes: list[str]
    data: pd.DataFrame
    caption: str = ""
    link: str = ""
    footer: list[str] = field(default_factory=list)

    def to_html(self) -> str:
        head = "".join(f'<th class="{"num" if self.numeric[c] else "text"}">{html.escape(str(c))}</th>'
                       for c in self.frame.columns)
        rows = []
        for _, row in self.frame.iterrows():
            cells = "".join(f'<td class="{_cell_class(self.numeric[c], v)}">{v}</td>'
                            for c, v in zip(self.frame.columns, row))
            rows.append(f"<tr>{cells}</tr>")
        caption = f"<caption>{html.escape(self.caption)}</caption>" if self.caption else ""
        notes = "".join(f"<li>{html.escape(n)}</li>" for n in self.notes)
        foot = "".join(f"<p>{html.escape(line)}</p>" for line in self.footer)
        link = (f'<p class="pgrant-csv"><a href="{html.escape(self.link)}">data (CSV)</a></p>'
                if self.link else "")
        return (f'<div class="pgrant-table"><table>{caption}<thead><tr>{head}</tr></thead>'
                f"<tbody>{''.join(rows)}</tbody></table>{foot}"
                + (f'<ol class="pgrant-notes">{notes}</ol>' if notes else "") + f"{link}</div>")

    _repr_html_ = to_html

    def __str__(self) -> str:
        text = self.frame.to_string(index=False)
        text = re.sub(r"<sup>(\d+)</sup>", r"[\1]", text)
        return text + "".join(f"\n[{i}] {n}" for i, n in enumerate(self.notes, 1))


# Text cells longer than this (characters) wrap; shorter ones ("non-persistent", "4k") stay on one line.
WRAP_CHARS = 32


def _cell_class(numeric: bool, text: str) -> str:
    if numeric:
        return "num"
    return "text long" if len(text) > WRAP_CHARS else "text"


def human(value: float, *, digits: int = 3) -> str:
    """``value`` rounded for reading: 650k, 1.25M, 2.75, 54, 0.0123, 3.1e-05; no ``-0``.

    Integers below 10 000 are exact; larger magnitudes get k/M/G/T with ``digits`` significant
    digits. NaN/inf are the caller's business (they become notes), here they read "—".
    """
    if value is None or not np.isfinite(value):
        return EM_DASH
    value = float(value)
    if value == 0:
        return "0"
    mag = abs(value)
    if mag < 1e-3 or mag >= 1e15:
        mantissa, exponent = f"{value:.{digits - 1}e}".split("e")
        return f"{mantissa.rstrip('0').rstrip('.')}e{int(exponent)}"
    if mag >= 1e4:
        for suffix, scale in (("T", 1e12), ("G", 1e9), ("M", 1e6), ("k", 1e3)):
            if mag >= scale:
                text = _sig(value / scale, digits)
                return text + suffix
    if value == int(value):
        return str(int(value))
    text = _sig(value, digits)
    return "0" if float(text) == 0 else text


def _sig(value: float, digits: int) -> str:
    """``value`` with ``digits`` significant digits, no exponent, no trailing zeros, no -0."""
    if value == 0:
        return "0"
    decimals = max(0, digits - 1 - int(math.floor(math.log10(abs(value)))))
    text = f"{value:.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def header(name: object, unit: str | None = None) -> str:
    """A column name as a header: words, the unit in parentheses (``clat_p99_ns`` -> "clat p99 (ns)")."""
    text = re.sub(r"(?<![A-Za-z0-9])p(\d+)_(\d+)(?![0-9])", r"p\1.\2", str(name))  # clat_p99_9 -> clat p99.9
    words = [_WORDS.get(w.lower(), w) for w in text.replace("_", " ").split()]
    text = " ".join(words)
    return f"{text} ({unit})" if unit and unit not in text.split() else text


def _kind(name: str) -> tuple[str, str | None]:
    """(base name, unit kind) from a column name's suffix; (name, None) when it has none."""
    low = name.lower()
    if low == "iops" or low.startswith("iops_") or low.endswith("_iops"):
        return name, "IOPS"
    for suffix, kind in _SUFFIXES:
        if low.endswith(suffix) and len(low) > len(suffix):
            return name[: -len(suffix)], kind
    return name, None


def _scaled_unit(values: pd.Series, kind: str) -> tuple[str, float]:
    """The unit to show a ns or bytes column in (the one that suits its median) and its scale."""
    finite = values[np.isfinite(values)].abs()
    typical = float(finite.median()) if len(finite) else 0.0
    if kind in ("ns", "us", "ms"):
        typical *= {"ns": 1.0, "us": 1e3, "ms": 1e6}[kind]
        for unit, scale in _TIME_UNITS:
            if typical >= scale:
                return unit, scale / {"ns": 1.0, "us": 1e3, "ms": 1e6}[kind]
        return _TIME_UNITS[-1][0], 1.0 / {"ns": 1.0, "us": 1e3, "ms": 1e6}[kind]
    base = {"bytes": 1, "bytes_s": 1, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30}[kind]
    typical *= base
    for unit, scale in _BYTE_UNITS:
        if typical >= scale:
            return unit + ("/s" if kind == "bytes_s" else ""), scale / base
    return "bytes" + ("/s" if kind == "bytes_s" else ""), 1.0 / base


def is_size_text(values: pd.Series) -> bool:
    """Whether a text column holds block sizes ("4k", "128k", "1m")."""
    texts = values.dropna()
    return (len(texts) > 0 and all(isinstance(v, str) for v in texts)
            and all(_SIZE_TEXT.match(v) for v in texts) and any(not v.strip().isdigit() for v in texts))


def size_key(text: str) -> float:
    """A block size's value in bytes, for sorting ("44k" < "128k"); unreadable sizes last."""
    from analysis.ingest.experiment import bs_bytes

    try:
        return float(bs_bytes(text))
    except ValueError:
        return math.inf


def _flatten(table: pd.DataFrame | pd.Series) -> pd.DataFrame:
    """A DataFrame with no meaningful index: named or multi-level indexes become columns."""
    if isinstance(table, pd.Series):
        table = table.to_frame(table.name if table.name is not None else "value")
    table = table.copy()
    if isinstance(table.columns, pd.MultiIndex):
        table.columns = [" ".join(str(p) for p in col if str(p) != "") for col in table.columns]
    elif table.columns.name:
        name = table.columns.name
        table.columns = [f"{name} = {c}" if not isinstance(c, str) or is_size_text(pd.Series([c])) else c
                         for c in table.columns]
    if isinstance(table.index, pd.MultiIndex) or table.index.name is not None:
        table = table.reset_index()
    elif not isinstance(table.index, pd.RangeIndex) and _is_text(table.index.to_series()):
        table = table.reset_index(names="")
    table.columns = [str(c) for c in table.columns]
    return table


def _is_text(values: pd.Series) -> bool:
    return pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values)


def _sort_sizes(table: pd.DataFrame) -> pd.DataFrame:
    """Rows ordered by their text key columns up to the block-size column, sizes by value;
    columns named after block sizes ("bs = 4k") ordered by value too."""
    size_cols = [c for c in table.columns if _is_text(table[c]) and is_size_text(table[c])]
    if size_cols:
        col = size_cols[0]
        keys = [c for c in table.columns[: list(table.columns).index(col) + 1] if _is_text(table[c])]
        table = table.sort_values(keys, key=lambda s: s.map(size_key) if s.name == col else s,
                                  kind="stable").reset_index(drop=True)
    sized = [c for c in table.columns if re.fullmatch(r".* = \S+", c)
             and is_size_text(pd.Series([c.rsplit(" = ", 1)[1]]))]
    if len(sized) > 1:
        order = sorted(sized, key=lambda c: size_key(c.rsplit(" = ", 1)[1]))
        rest = [c for c in table.columns if c not in sized]
        first = min(list(table.columns).index(c) for c in sized)
        table = table[rest[:first] + order + rest[first:]]
    return table


def format_table(table: pd.DataFrame | pd.Series, *, why: dict | None = None, units: dict | None = None,
                 caption: str = "", digits: int = 3) -> Table:
    """``table`` formatted for a page (see the module docstring).

    ``why`` maps a column name (or ``"*"`` for any) to the reason its undefined values are
    undefined, e.g. ``{"stderr": "exact fit: no residual degrees of freedom"}``; each distinct
    reason is one numbered note. ``units`` gives a unit for columns whose names carry none
    (``{"value": "IOPS"}``).
    """
    why, units = {**DEFAULT_WHY, **(why or {})}, dict(units or {})
    data = _sort_sizes(_flatten(table))
    shown = pd.DataFrame(index=data.index)
    numeric: dict = {}
    notes: list[str] = []

    def note(reason: str) -> str:
        if reason not in notes:
            notes.append(reason)
        return f"{EM_DASH}<sup>{notes.index(reason) + 1}</sup>"

    for col in data.columns:
        values = data[col]
        base, kind = _kind(col)
        is_num = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
        if is_num:
            floats = values.astype(float)
            scale, unit = 1.0, units.get(col)
            if kind in ("ns", "us", "ms", "bytes", "bytes_s", "KiB", "MiB", "GiB"):
                unit, scale = _scaled_unit(floats, kind)
            elif kind is not None:
                unit = unit or kind
            label = header(base if kind not in (None, "IOPS") else col, unit)
            finite = floats[np.isfinite(floats)].abs()
            # Below this a value is rounding noise of zero next to the column's others (-5e-16 beside 4.27).
            noise = float(finite.max()) * NOISE_SHARE if len(finite) else 0.0
            cells = []
            for v in floats:
                if np.isfinite(v) and abs(v) < noise:
                    v = 0.0
                if np.isnan(v):
                    cells.append(note(why.get(col, why.get("*", WHY_NAN))))
                elif np.isinf(v):
                    cells.append(note(why.get(col + ":inf", WHY_INF)))
                else:
                    cells.append(html.escape(human(v / scale, digits=digits)))
        else:
            label = header(col, units.get(col))
            cells = []
            for v in values:
                if v is None or (isinstance(v, float) and np.isnan(v)):
                    cells.append(note(why.get(col, why.get("*", WHY_NAN))))
                elif isinstance(v, (bool, np.bool_)):
                    cells.append("yes" if v else "no")
                elif isinstance(v, (float, np.floating)):
                    cells.append(html.escape(human(v, digits=digits)))
                elif isinstance(v, (tuple, list)) and all(isinstance(x, (int, float, np.number)) for x in v):
                    if not all(np.isfinite(x) for x in v):
                        cells.append(note(why.get(col, why.get("*", WHY_NAN))))
                        continue
                    parts = [human(x, digits=digits) for x in v]
                    cells.append(html.escape(f"{parts[0]} to {parts[-1]}" if len(parts) == 2 else ", ".join(parts)))
                else:
                    cells.append(html.escape(str(v)))
        while label in shown.columns:
            label += " "
        shown[label] = cells
        numeric[label] = is_num
    return Table(frame=shown, numeric=numeric, notes=notes, data=data, caption=caption)


def show(table: pd.DataFrame | pd.Series | Table, name: str | None = None, **options) -> None:
    """Display ``table`` formatted (with a CSV link when a report is being written).

    It returns nothing, so a cell that ends with ``show(...)`` shows the table once, not twice.

    ``name`` names the CSV (``<page>-data/<name>.csv``); by default tables are numbered.
    ``options`` go to :func:`format_table`.
    """
    from IPython.display import display

    from analysis.site import capture

    formatted = table if isinstance(table, Table) else format_table(table, **options)
    formatted.link = capture.write_csv(formatted.data, name or "table")
    display(formatted)


def show_figure(fig, data: pd.DataFrame | None = None, name: str | None = None) -> None:
    """Display a matplotlib figure with its data as a CSV beside it (``data``, or the plotted points
    read back from the figure when ``data`` is None), then close it so it is not shown twice."""
    from IPython.display import display

    from analysis.site import capture

    display(capture.FigureWithData(fig, data, name))


def refusal(err: Exception, what: str = "") -> None:
    """Show an expected refusal (e.g. a fit with fewer points than parameters) as a sentence."""
    from IPython.display import HTML, display

    reason = str(err).strip().rstrip(".")
    lead = f"{what[:1].upper()}{what[1:]} is refused" if what else "Refused"
    display(HTML(f'<p class="pgrant-refusal">{html.escape(lead)}: {html.escape(reason)}.</p>'))


# Why a fit's statistic is undefined, by cause (analysis.models.base sets NaN for both).
WHY_EXACT_FIT = _EXACT
WHY_UNIDENTIFIED = "not identified by these data (the fit's covariance is singular for this parameter)"
WHY_FIXED = "fixed parameter: not fitted, so it has no standard error or interval"
WHY_NO_BOOTSTRAP = "no bootstrap interval (bootstrap off, or too few resamples converged)"
WHY_REL_LARGE = "the standard error exceeds 10x the value: these data do not determine this parameter"
# Above this relative standard error (%) a percentage says nothing; shown as a note instead.
REL_PCT_MAX = 1000.0


def fit_table(summary) -> Table:
    """A fit's summary (analysis.models.base.FitSummary) as a formatted table: one row per parameter
    (value, stderr, relative stderr, both 95% intervals), the fit statistics under it, and a note
    for every value that is undefined, saying why."""
    stats = summary.stats
    exact = stats["dof"] <= 0
    rows = []
    for r in summary.rows:
        cov = r["ci"] or (math.nan, math.nan)
        boot = r["ci_boot"] or (math.nan, math.nan)
        value, stderr = r["value"], (math.nan if r["fixed"] else r["stderr"])
        rel = abs(stderr / value) * 100 if value and np.isfinite(stderr) else math.nan
        rows.append({"parameter": r["name"], "unit": r["unit"] or "", "value": value,
                     "fixed": "fixed" if r["fixed"] else "fitted", "stderr": stderr,
                     "stderr_pct": math.inf if rel > REL_PCT_MAX else rel,
                     "ci95_low": cov[0], "ci95_high": cov[1], "bootstrap_low": boot[0], "bootstrap_high": boot[1]})
    data = pd.DataFrame(rows)
    free_undefined = any(not r["fixed"] and not np.isfinite(r["stderr"]) for r in summary.rows)
    why_stderr = (WHY_EXACT_FIT if exact else WHY_UNIDENTIFIED) if free_undefined else WHY_FIXED
    table = format_table(data, caption=summary.title, why={
        "value": WHY_UNIDENTIFIED, "stderr": why_stderr, "stderr_pct": why_stderr, "stderr_pct:inf": WHY_REL_LARGE,
        "ci95_low": why_stderr, "ci95_high": why_stderr,
        "bootstrap_low": WHY_NO_BOOTSTRAP, "bootstrap_high": WHY_NO_BOOTSTRAP})

    def stat(v) -> str:
        if v is None or not np.isfinite(v):
            if WHY_EXACT_FIT not in table.notes:
                table.notes.append(WHY_EXACT_FIT)
            return f"{EM_DASH} [{table.notes.index(WHY_EXACT_FIT) + 1}]"
        return human(v)

    table.footer.append(
        f"n = {stats['n']} points, {stats['k']} free parameters, {stats['dof']} residual degrees of freedom; "
        f"residual standard error {stat(stats['rse'])} {stats['y_unit']}; AIC {stat(stats['aic'])}, "
        f"BIC {stat(stats['bic'])}; bootstrap: {stats['boot']}.")
    table.notes += [n for n in summary.notes if n not in table.notes]
    return table


def sentence(*parts: object) -> None:
    """Show a computed statement as a paragraph (``print``'s arguments, joined by spaces), not as
    console output."""
    from IPython.display import HTML, display

    display(HTML(f'<p class="pgrant-sentence">{html.escape(" ".join(str(p) for p in parts))}</p>'))


def data_link(data: pd.DataFrame, name: str) -> None:
    """Write ``data`` as the CSV of a table shown by other means (e.g. the verdict table's own
    HTML) and show its link; nothing outside a report."""
    from IPython.display import HTML, display

    from analysis.site import capture

    link = capture.write_csv(data, name)
    if link:
        display(HTML(f'<p class="pgrant-csv"><a href="{html.escape(link)}">data (CSV)</a></p>'))
