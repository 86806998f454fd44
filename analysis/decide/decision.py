"""Where persistent grants pay: USL fits per mode of an experiment, their ratio, and its memory cost.

Stage "tidy table -> fitted model -> decision" for notebooks 09 and 10. Input is
``analysis.ingest.experiment.aggregate(table)`` (one row per run: total ``iops`` over ``guests``).

- ``compare_cells(runs)``, ``choose_model``, ``fit_best``: every contention model of
  analysis.models.contention (USL, exact MVA of a flush lock, the lock-collapse chain) per mode and
  cell, scored by AIC/BIC and leave-one-guest-count-out error; the decision names the model it uses.
- ``fit_cells(runs, model=...)``: one fit (the Universal Scalability Law by default) per mode in each
  *cell* (a combination of the other conditions: dom0 VCPUs, block size, ...), with the
  parameters' 95% intervals, and a residual bootstrap of the fit for bands on curves and ratios.
- ``ratio_map(fits)``: persistent / non-persistent predicted aggregate IOPS over guests for every
  cell where both modes were fitted, with the bootstrap's 95% band and a verdict per point
  ("persistent pays" when the whole band is above 1, "non-persistent pays" below, else "unclear").
- ``cost_balance(unmaps, copies)``: for dom0 VCPU counts and block sizes no experiment measured, the
  per-request unmap flush cost from the flush-path model (a sensitivity band over published
  ranges) vs one copy of the block measured here (the tables of analysis.ingest.mechanisms
  load_memcpy and, as a labelled comparison only, load_unmap: munmap measured here).

Every function takes tables or fitted models; the readers are analysis.ingest.experiment (``load``,
``provenance``) and analysis.ingest.mechanisms.
- ``memory_map(...)``: what persistent mode costs in dom0 memory per host (analysis.xen.blkif).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis import constants, text
from analysis.ingest.experiment import MODES, Provenance, bs_bytes, missing_modes, run_key
from analysis.models import MedianLine, band, contention
from analysis.models.groups import fit_groups

DOM0_VCPUS_GRID = (1, 2, 4, 8, 16, 24, 32, 64)
MIN_GUEST_COUNTS = 3  # the USL has 3 parameters: fewer distinct guest counts cannot fix them
BOOTSTRAP_DRAWS = 200
BAND_LEVEL = 0.95  # every band of the suite: the 2.5th to 97.5th percentile of the bootstrap refits


# ---- describing the data ---------------------------------------------------------------------


def describe(source: Provenance, table: pd.DataFrame) -> str:
    """Markdown: what was read (``source``: analysis.ingest.experiment.provenance(folder)), which
    conditions vary, and what is missing for the analyses.

    Every string from the user (folder, manifest.json title and "what", column names, condition
    values) goes through analysis.text.markdown, so none of it is read as HTML, Markdown or math.
    """
    md = text.markdown
    conditions = table.attrs.get("conditions", [])
    files = table["file"].nunique()
    # The folder's name, not its path: a report never shows the build machine's absolute paths.
    lines = [f"**Data**: {md(source.label)}, {files} fio files in {md(source.folder.name)}/."]
    what = source.what
    if what:
        lines.append(f"**How it was measured** (manifest.json): {md(what)}.")
    varying = [c for c in conditions if table[c].nunique() > 1]
    if varying:
        lines.append("**Conditions that vary**: " + "; ".join(
            f"*{md(c)}* = {md(', '.join(str(v) for v in sorted(table[c].unique(), key=str)))}" for c in varying))
    missing = missing_modes(table)
    if "mode" not in conditions:
        lines.append("**Missing**: manifest.csv has no `mode` column, so persistent and non-persistent runs "
                     "cannot be told apart; every run is treated as one mode and nothing is compared.")
    elif missing:
        lines.append(f"**Missing**: no {' and no '.join(missing)} runs in this experiment; comparisons "
                     "between the modes are left out.")
    if "guests" not in conditions:
        lines.append("**Missing**: manifest.csv has no `guests` column, so nothing is plotted or fitted against guests.")
    return "\n\n".join(lines)


def can_plot_scaling(runs: pd.DataFrame) -> bool:
    return "guests" in runs.columns and runs["guests"].nunique() >= 2


def scaling_missing(runs: pd.DataFrame) -> str:
    if "guests" not in runs.columns:
        return "No `guests` column in manifest.csv: the scaling figures need runs at several guest counts."
    return f"Only one guest count ({runs['guests'].iloc[0]}) in this experiment: scaling needs at least two."


def cell_columns(runs: pd.DataFrame) -> list[str]:
    """The conditions that define a cell: every run-key column except mode, guests and run."""
    key = [c for c in runs.columns if c in run_key(list(runs.columns))]
    measured = {"iops", "bw_bytes_s", "guests_measured", "iops_per_guest_mean", "iops_per_guest_min",
                "iops_per_guest_max", "iops_per_guest_cv"}
    return [c for c in key if c not in measured | {"mode", "guests", "run", "guest_label"}]


def cell_label(cell: dict) -> str:
    names = {"dom0_vcpus": "dom0 VCPUs", "bs": "bs", "ring_order": "ring order"}
    return ", ".join(f"{names.get(k, k)} {v}" for k, v in cell.items()) or "all runs"


# ---- fitting ---------------------------------------------------------------------------------


@dataclass
class CellFit:
    """A contention model (the USL by default) fitted to one mode in one cell; the model's bootstrap
    refits give the bands."""

    cell: dict
    mode: str
    guests: np.ndarray
    iops: np.ndarray
    model: object

    def predict(self, n) -> np.ndarray:
        return np.asarray(self.model.predict(np.asarray(n, dtype=float)), dtype=float)

    def draws(self, n) -> np.ndarray:
        """Predictions at n of every bootstrap refit (rows; NaN for refits that failed)."""
        return self.model.predict_draws(np.asarray(n, dtype=float))

    def band(self, n) -> tuple[np.ndarray, np.ndarray]:
        """The BAND_LEVEL band of the bootstrap refits' predictions at n (NaN without refits)."""
        return self.model.predict_band(np.asarray(n, dtype=float), level=BAND_LEVEL)


@dataclass
class CellFits:
    """Every fit of an experiment plus notes on what could not be fitted and why."""

    cells: list[CellFit] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    model_name: str = "usl"

    def parameter_table(self) -> pd.DataFrame:
        """One row per fit: the cell, mode, runs, each USL parameter with its 95% interval
        (covariance), and the peak: guests N* and total IOPS there (inf guests when kappa = 0)."""
        rows = []
        for fit in self.cells:
            row = {**fit.cell, "mode": fit.mode, "runs": len(fit.guests)}
            for name, value in fit.model.params_.items():
                low, high = fit.model.ci_.get(name, (math.nan, math.nan))
                row[name] = value
                row[f"{name} 95% CI"] = f"[{low:.4g}, {high:.4g}]"
            row["peak_guests"], row["peak_iops"] = _peak(fit.model, fit.guests)
            rows.append(row)
        return pd.DataFrame(rows)

    def notes_markdown(self) -> str:
        if not self.notes:
            return f"{contention.LABELS[self.model_name]} fitted to {len(self.cells)} mode x cell combination(s); no notes."
        # a note names cells by the user's condition names and values: literal text, never Markdown
        return "\n".join(f"{i}. {text.markdown(note)}" for i, note in enumerate(self.notes, start=1))

    def get(self, cell: dict, mode: str) -> CellFit | None:
        return next((f for f in self.cells if f.cell == cell and f.mode == mode), None)


def _peak(model, guests) -> tuple[float, float]:
    """(guests, total IOPS) at the fitted curve's peak: the USL's closed form, else the best whole
    guest count up to 4x the most measured (inf guests when the curve still rises there)."""
    if hasattr(model, "peak"):
        return model.peak()
    grid = np.arange(1, 4 * int(np.max(guests)) + 1, dtype=float)
    values = np.asarray(model.predict(grid), dtype=float)
    best = int(np.argmax(values))
    return (math.inf if best == len(grid) - 1 else float(grid[best])), float(values[best])


def _dom0_cpus(cell: dict) -> int:
    """The dom0 CPU count a cell was measured with (the flush-path models need it); 1 if unknown."""
    value = cell.get("dom0_vcpus")
    return int(value) if value is not None and not pd.isna(value) else 1


def fit_cells(runs: pd.DataFrame, *, draws: int = BOOTSTRAP_DRAWS, seed: int = 0, model: str = "usl") -> CellFits:
    """Fit a contention model (``model``: one of analysis.models.contention.NAMES, the USL by
    default) to total IOPS against guests for every mode in every cell that has enough points.

    A cell with fewer than MIN_GUEST_COUNTS distinct guest counts is noted and skipped; a fit that
    fails (ModelFitError) is noted too, and so is each fit's own Notes (analysis.models). ``draws``
    seeded residual-bootstrap refits per fit (analysis.models' bootstrap) give the bands. The loop
    over cells and modes is analysis.models.groups.fit_groups.
    """
    label = contention.LABELS[model] if model in contention.LABELS else model
    result = CellFits(model_name=model)
    if not can_plot_scaling(runs):
        result.notes.append(scaling_missing(runs))
        return result
    cells = cell_columns(runs)
    modes = runs["mode"] if "mode" in runs.columns else pd.Series("all runs", index=runs.index)
    # Each (cell, mode) fit draws from its own seed (seed, seed + 1, ...): the two modes' bootstrap
    # refits are independent, as the ratio band of ratio_map assumes.
    seeds = itertools.count(seed)
    groups = fit_groups(runs.assign(_mode=modes), cells + ["_mode"], "guests", "iops",
                        lambda key: contention.make(model, dom0_cpus=_dom0_cpus(key), n_boot=draws,
                                                    bootstrap="residual", seed=next(seeds)),
                        min_x_values=MIN_GUEST_COUNTS, on_error="note", keyed=True)
    for group in groups:
        cell = {c: v for c, v in group.key.items() if c != "_mode"}
        mode = group.key["_mode"]
        where = f"{mode}, {cell_label(cell)}"
        if group.skipped:
            counts = len(np.unique(group.x))
            result.notes.append(f"{where}: only {counts} guest count(s); the {label} needs "
                                f"{MIN_GUEST_COUNTS} or more, so this mode is not fitted here.")
            continue
        if group.error is not None:
            result.notes.append(f"{where}: the {label} fit failed ({group.error}).")
            continue
        fitted = group.model
        result.cells.append(CellFit(cell=cell, mode=mode, guests=group.x, iops=group.y, model=fitted))
        result.notes += [f"{where}: {note}" for note in fitted.notes_]
    return result


def compare_cells(runs: pd.DataFrame) -> pd.DataFrame:
    """Every contention model (analysis.models.contention: USL, exact MVA of a flush lock, the
    lock-collapse chain) on every mode in every cell with enough guest counts: the cell's
    conditions, ``cell``, ``mode``, and contention.compare's columns (model, fitted, aic, bic,
    loo_rel_rmse, params, note). A model that cannot be fitted is a row saying why."""
    if not can_plot_scaling(runs):
        return pd.DataFrame()
    cells = cell_columns(runs)
    modes = runs["mode"] if "mode" in runs.columns else pd.Series("all runs", index=runs.index)
    frames = []
    for key, part in runs.assign(_mode=modes).groupby(cells + ["_mode"], sort=True):
        key = key if isinstance(key, tuple) else (key,)
        cell = dict(zip(cells, key[:-1]))
        if part["guests"].nunique() < MIN_GUEST_COUNTS:
            continue
        table = contention.compare(part["guests"], part["iops"], dom0_cpus=_dom0_cpus(cell))
        frames.append(table.assign(**cell, cell=cell_label(cell), mode=key[-1]))
    if not frames:
        return pd.DataFrame()
    out = pd.concat(frames, ignore_index=True)
    first = [*cells, "cell", "mode"]
    return out[first + [c for c in out.columns if c not in first]]


def choose_model(comparison: pd.DataFrame) -> tuple[str, str]:
    """The contention model the decision uses, and why: of the models fitted in every (cell, mode),
    the one with the lowest mean leave-one-guest-count-out error; the USL when none qualifies."""
    if comparison.empty:
        return "usl", "no cell has enough guest counts to compare models; the USL is used"
    everywhere = comparison.groupby("name")["fitted"].all()
    scores = comparison[comparison["name"].isin(everywhere[everywhere].index)].groupby("name")["loo_rel_rmse"].mean()
    scores = scores.dropna()
    if scores.empty:
        return "usl", "no model could be fitted and cross-validated in every cell and mode; the USL is used"
    best = str(scores.idxmin())
    listed = ", ".join(f"{contention.LABELS[n]} {scores[n]:.1%}" for n in scores.sort_values().index)
    return best, (f"lowest leave-one-guest-count-out error over every cell and mode ({listed}); AIC/BIC "
                  "per cell are in the table")


def fit_best(runs: pd.DataFrame, *, draws: int = BOOTSTRAP_DRAWS, seed: int = 0) -> tuple[CellFits, pd.DataFrame, str]:
    """Compare the contention models on every cell and mode (:func:`compare_cells`), choose one
    (:func:`choose_model`) and fit it with bootstrap bands (:func:`fit_cells`): (fits, comparison,
    why the model was chosen)."""
    comparison = compare_cells(runs)
    name, why = choose_model(comparison)
    return fit_cells(runs, draws=draws, seed=seed, model=name), comparison, why


# ---- the decision ----------------------------------------------------------------------------


def guest_grid(runs: pd.DataFrame, at_least: int = 10) -> np.ndarray:
    """Guest counts to predict at: 1 .. max(at_least, 2 x the most guests measured)."""
    top = int(max(at_least, 2 * runs["guests"].max())) if "guests" in runs.columns else at_least
    return np.arange(1, top + 1)


def ratio_map(fits: CellFits, guests: np.ndarray) -> pd.DataFrame:
    """Persistent / non-persistent predicted total IOPS for each cell with both modes fitted.

    Columns: the cell's conditions, ``cell`` (label), ``guests``, ``ratio`` (point fits),
    ``ratio_low``/``ratio_high`` (BAND_LEVEL band of paired bootstrap refits), ``verdict``,
    ``extrapolated`` (guests beyond the largest count measured in both modes).
    """
    rows = []
    for fit_p in (f for f in fits.cells if f.mode == MODES[0]):
        fit_np = fits.get(fit_p.cell, MODES[1])
        if fit_np is None:
            continue
        ratio = fit_p.predict(guests) / fit_np.predict(guests)
        low, high = _ratio_band(fit_p, fit_np, guests)
        measured = min(fit_p.guests.max(), fit_np.guests.max())
        for i, g in enumerate(guests):
            rows.append({**fit_p.cell, "cell": cell_label(fit_p.cell), "guests": int(g), "ratio": ratio[i],
                         "ratio_low": low[i], "ratio_high": high[i],
                         "verdict": _verdict(low[i], high[i]), "extrapolated": bool(g > measured)})
    return pd.DataFrame(rows)


def _ratio_band(fit_p: CellFit, fit_np: CellFit, guests) -> tuple[np.ndarray, np.ndarray]:
    """Percentiles of the ratio over paired bootstrap refits (the two fits' draws are independent)."""
    a, b = fit_p.draws(guests), fit_np.draws(guests)
    k = min(len(a), len(b))
    return band(a[:k] / b[:k], level=BAND_LEVEL)


def _verdict(low: float, high: float) -> str:
    if math.isnan(low) or math.isnan(high):
        return "unclear"
    if low > 1:
        return "persistent pays"
    if high < 1:
        return "non-persistent pays"
    return "unclear"


def cost_balance(unmaps: pd.DataFrame, copies: pd.DataFrame, dom0_vcpus=DOM0_VCPUS_GRID) -> pd.DataFrame:
    """Per request, the unmap flush non-persistent mode pays against the copy persistent mode pays.

    ``unmap_ns`` (with ``unmap_low_ns``/``unmap_high_ns``) is the dom0 CPU time of the request's
    unmap flushes (one per GNTTAB_UNMAP_BATCH_SIZE = 32 pages) from the flush-path model
    (analysis.models.flush_path.flush_cost_band: the initiator's hold of the global flush lock
    plus the IPI handler on every other dom0 CPU), over the published
    2012-era x86 ranges: a sensitivity band, not a confidence interval (column ``unmap_band``).
    ``copy_ns`` = the median time to copy the block in blkfront's segment layout from a cold
    cache, measured on this machine (native Linux, not Xen; bootstrap 95% interval of the
    median). ``ratio`` = unmap_ns / copy_ns, ``ratio_low``/``ratio_high`` = low unmap / high copy
    and high unmap / low copy; ``verdict`` as ratio_map. For comparison only (labelled
    ``munmap_here_ns``): one ``munmap`` of the request's pages with its TLB shootdown measured on
    this 2-vCPU KVM guest, as a line in the remote CPUs evaluated at k = dom0_vcpus - 1;
    ``extrapolated`` flags where that comparison line leaves the measured remote CPUs.
    ``unmaps`` is analysis.ingest.mechanisms.load_unmap's table, ``copies`` load_memcpy's.
    Block sizes are the measured batch sizes (pages per call x 4 KiB).
    """
    from analysis.models.flush_path import flush_cost_band

    flush = flush_cost_band(list(dom0_vcpus)).set_index("dom0_vcpus")
    copies = copies[(copies["impl"] == "c") & (copies["layout"] == "segments") & (copies["cache"] == "cold")]
    rng = np.random.default_rng(0)
    rows = []
    for pages, group in unmaps[unmaps["op"] == "munmap"].groupby("pages_per_call"):
        bs = int(pages) * constants.PAGE_BYTES
        copy = copies.loc[copies["size_bytes"] == bs, "copy_ns"].to_numpy()
        if len(copy) == 0:
            continue
        copy_mid = float(np.median(copy))
        copy_low, copy_high = np.percentile(np.median(rng.choice(copy, size=(400, len(copy))), axis=1), (2.5, 97.5))
        line = MedianLine(n_boot=400, seed=0).fit(group["remote_threads"], group["call_ns"])
        measured_k = group["remote_threads"].max()
        for v in dom0_vcpus:
            k = v - 1
            munmap = float(line.predict(k))
            flushes = math.ceil(int(pages) / constants.GNTTAB_UNMAP_BATCH_SIZE)
            unmap, low, high = (flushes * float(flush.loc[v, c]) for c in ("cost_ns", "cost_low_ns", "cost_high_ns"))
            rows.append({"dom0_vcpus": v, "bs_bytes": bs, "bs": _bs_label(bs), "unmap_ns": unmap,
                         "unmap_low_ns": low, "unmap_high_ns": high, "unmap_band": flush.loc[v, "band"],
                         "copy_ns": copy_mid, "ratio": unmap / copy_mid, "ratio_low": low / copy_high,
                         "ratio_high": high / copy_low, "verdict": _verdict(low / copy_high, high / copy_low),
                         "munmap_here_ns": munmap, "extrapolated": bool(k > measured_k)})
    return pd.DataFrame(rows)


def _bs_label(nbytes: int) -> str:
    return f"{nbytes // 1024}k" if nbytes % 1024 == 0 else str(nbytes)


def memory_map(guests: np.ndarray, block_sizes: list[str], *, ring_order: int = 0,
               queues: tuple[int, ...] = (1, 4), disks: int = 1) -> pd.DataFrame:
    """Worst-case dom0 memory held by persistent grants per host, from analysis.xen.blkif.

    Each request of block size bs uses ceil(bs / 4 KiB) grant pages; blkback keeps up to
    ring slots x pages per request mapped per ring, capped at LINUX_MAX_PERSISTENT_GRANTS (Linux
    max_persistent_grants) per ring; a device has ``queues`` rings (blkfront max_queues: 1 in 2012,
    4 by default since Linux 4.6). Non-persistent mode keeps none mapped between requests.
    Columns: guests, bs, queues, ring_order, mem_mib.
    """
    from analysis.xen import blkif

    slots = blkif.ring_slots(ring_order)
    rows = []
    for bs in block_sizes:
        segments = max(1, math.ceil(bs_bytes(bs) / constants.PAGE_BYTES))
        for q in queues:
            for g in guests:
                mem = blkif.host_memory(int(g), disks, slots=slots, segments=segments,
                                        cap=constants.LINUX_MAX_PERSISTENT_GRANTS, queues=q)
                rows.append({"guests": int(g), "bs": bs, "queues": q, "ring_order": ring_order, "mem_mib": mem.mib})
    return pd.DataFrame(rows)
