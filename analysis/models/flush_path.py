"""The 2012 collapse explained: which flush-path model reproduces it, with what parameters, and
what each predicts (persistent grants, other dom0 CPU counts, per-request dom0 cost).

Inputs are tables (the thread's digitized points, the measured-here memcpy and lookup samples);
nothing here reads a folder. Three models of the same mechanism (see :mod:`analysis.models.mva`
for the Xen and Linux source lines):

- the USL (:class:`analysis.models.usl.USL`): no USL with sigma, kappa >= 0 that peaks at 5 can
  fall to 400k at 10 (``peak_ratio_bounds``);
- the closed queueing model by exact MVA (:class:`FlushMVA`): X(N) never decreases, it plateaus
  at 1 / hold;
- the lock-collapse chain (:class:`LockCollapse`, Boyd-Wickizer et al. 2012): rises, peaks, falls.

Published ranges (``PUBLISHED_RANGES``) are sensitivity ranges for 2012-era x86 servers, not
measurements; each entry names its sources, and notebook 12 discusses them:

- ``hold_base_us`` (one remote flush with a single target: spin_lock, IPI delivery, INVLPG/CR3
  write on the target, acknowledgement seen by the sender): about 1 us, "microseconds" (Amit,
  "Optimizing the TLB shootdown algorithm with page access tracking", USENIX ATC 2017, sec. 1:
  "TLB shootdown can take microseconds"; Kumar et al., "LATR: Lazy translation coherence", ASPLOS
  2018, abstract: the IPIs and their interrupt handlers are the cost LATR avoids) -> 0.5 .. 2 us.
- ``hold_per_cpu_us``: the sender writes the APIC's ICR once per target in physical destination
  mode (xen/arch/x86/smp.c:174, ``send_IPI_mask_phys``) and waits for the slowest
  acknowledgement: tens to a few hundred ns per target (an uncached APIC register write per
  target plus cross-socket cache-line transfers of the shared mask, ~100-300 ns on 2012-era
  multi-socket x86: David, Guerraoui, Trigonakis, "Everything you always wanted to know about
  synchronization but were afraid to ask", SOSP 2013, Table 2) -> 0.02 .. 0.2 us.
- ``handler_us``: interrupt entry, TLB flush and exit on each target (``smp_invalidate_interrupt``,
  smp.c:209-219): several hundred ns to about a microsecond -> 0.3 .. 1.5 us. This range is our
  assumption (interrupt entry and exit plus one flush on 2012-era x86), not a figure from one source.
- ``handoff_us``: one cache-line transfer per spinning waiter per handoff (Boyd-Wickizer et al.
  2012, sec. 3; transfer latencies as David et al. 2013, Table 2) -> 0.02 .. 0.3 us.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from analysis.errors import ModelFitError, UsageError
from analysis.models.lock_collapse import LockCollapse
from analysis.models.mva import FlushMVA, hold_time_us, mva_iops
from analysis.models.usl import peak_ratio_bounds, usl

#: (low, mid, high) in microseconds: sensitivity ranges from the sources in the module docstring.
PUBLISHED_RANGES = {
    "hold_base_us": (0.5, 1.0, 2.0),
    "hold_per_cpu_us": (0.02, 0.08, 0.2),
    "handler_us": (0.3, 0.7, 1.5),
    "handoff_us": (0.02, 0.1, 0.3),
}
#: The middle values, as ``fixed=`` for fits at a single CPU count (the CLI uses them).
PUBLISHED_MID = {name: mid for name, (_, mid, _) in PUBLISHED_RANGES.items()}
#: What a band from PUBLISHED_RANGES is, for labels and columns.
BAND_LABEL = "sensitivity band over published 2012-era x86 ranges (not a confidence interval)"
#: Relative tolerance for "reproduces a point of the statement".
REPRODUCE_RTOL = 0.01
#: 4 KiB requests: one flush per request (one gnttab_unmap_refs call per request, <= 32 unmaps,
#: analysis.constants.GNTTAB_UNMAP_BATCH_SIZE).
PAGE_FLUSHES_PER_REQUEST = 1


def hold_budget_us(peak_iops: float, flushes_per_request: float = PAGE_FLUSHES_PER_REQUEST) -> float:
    """Longest mean flush-lock hold compatible with ``peak_iops`` through one global lock, us:
    1e6 / (peak_iops x flushes per request) (650,000 IOPS, one flush each -> 1.54 us)."""
    if not (peak_iops > 0 and flushes_per_request > 0):
        raise UsageError(f"peak_iops={peak_iops!r}, flushes_per_request={flushes_per_request!r}: "
                         f"expected both > 0")
    return 1e6 / (peak_iops * flushes_per_request)


def _statement(points: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, int, int]:
    """(guests, iops, peak guests, dom0 CPUs) from the thread's digitized table (columns guests,
    total_iops, dom0_vcpus, peak)."""
    for column in ("guests", "total_iops", "dom0_vcpus", "peak"):
        if column not in points.columns:
            raise UsageError(f"statement table: column {column!r} not found; the columns are "
                             f"{', '.join(map(str, points.columns))}")
    points = points.sort_values("guests")
    peak_rows = points[points["peak"].astype(str).str.lower() == "true"]
    if len(peak_rows) != 1 or points["dom0_vcpus"].nunique() != 1:
        raise UsageError("statement table: expected one row marked peak=true and one dom0_vcpus value, "
                         f"found {len(peak_rows)} peak rows and {points['dom0_vcpus'].nunique()} values")
    return (points["guests"].to_numpy(float), points["total_iops"].to_numpy(float),
            int(peak_rows["guests"].iloc[0]), int(points["dom0_vcpus"].iloc[0]))


def _integer_peak(curve: np.ndarray) -> int:
    return int(np.argmax(curve)) + 1


def collapse_family(points: pd.DataFrame, handoffs_us=None) -> pd.DataFrame:
    """The lock-collapse chains that reproduce the statement: for each handoff cost in
    ``handoffs_us`` (default 0..0.5 us), the chain fitted through both points (think time and hold
    free, within their physical bounds), its residuals and its whole-number peak. One row per
    handoff: handoff_us, think_us, hold_us (at the statement's CPU count), x_at_<n> for each point,
    peak_guests, reproduces (both points within 1% and the peak where the statement puts it)."""
    guests, iops, n_peak, cpus = _statement(points)
    handoffs_us = np.linspace(0.0, 0.5, 51) if handoffs_us is None else np.asarray(handoffs_us, float)
    rows = []
    n_grid = np.arange(1, max(16, int(guests.max())) + 1, dtype=float)
    for c in handoffs_us:
        model = LockCollapse(dom0_cpus=cpus, n_boot=0, fixed={"handoff_us": float(c), "hold_per_cpu_us": 0.0})
        try:
            model.fit(guests, iops)
        except ModelFitError:
            continue
        fitted = model.predict(guests)
        curve = model.predict(n_grid)
        row = {"handoff_us": float(c), "think_us": model.params_["think_us"],
               "hold_us": model.params_["hold_base_us"], "peak_guests": _integer_peak(curve)}
        row.update({f"x_at_{int(g)}": float(f) for g, f in zip(guests, fitted)})
        row["reproduces"] = bool(np.all(np.abs(fitted / iops - 1) <= REPRODUCE_RTOL)
                                 and row["peak_guests"] == n_peak)
        rows.append(row)
    return pd.DataFrame(rows)


def mva_closest(points: pd.DataFrame, *, handler_us: float = PUBLISHED_MID["handler_us"]) -> FlushMVA:
    """The MVA curve closest (least squares) to the statement, with cpu_us and the per-CPU hold
    fixed (two points cannot fix more than two parameters); its X(N) is non-decreasing, so the
    best it can do is a plateau through the middle of the two points."""
    guests, iops, _, cpus = _statement(points)
    fixed = {"cpu_us": 1.0, "hold_per_cpu_us": 0.0, "handler_us": handler_us}
    return FlushMVA(dom0_cpus=cpus, n_boot=0, fixed=fixed).fit(guests, iops)


def mva_min_ratio(n_from: int, n_to: int, *, dom0_cpus: int = 24, draws: int = 2000, seed: int = 0) -> float:
    """Smallest X(n_to) / X(n_from) over ``draws`` random MVA parameter sets (log-uniform over
    0.1 .. 100 us for the times, the published ranges for the flush costs): the numerical check
    that the MVA model cannot fall (the ratio stays >= 1)."""
    rng = np.random.default_rng(seed)
    lo = {k: v[0] for k, v in PUBLISHED_RANGES.items()}
    hi = {k: v[2] for k, v in PUBLISHED_RANGES.items()}
    x = np.array([[n_from, n_to], [dom0_cpus, dom0_cpus]], dtype=float)
    worst = math.inf
    for _ in range(draws):
        values = {
            "think_us": 10 ** rng.uniform(-1, 2), "cpu_us": 10 ** rng.uniform(-1, 2),
            "hold_base_us": rng.uniform(lo["hold_base_us"], hi["hold_base_us"]),
            "hold_per_cpu_us": rng.uniform(lo["hold_per_cpu_us"], hi["hold_per_cpu_us"]),
            "handler_us": rng.uniform(0.0, hi["handler_us"]),
        }
        a, b = mva_iops(x, **values)
        worst = min(worst, b / a)
    return float(worst)


def middle_member(family: pd.DataFrame) -> pd.Series:
    """The middle row (by handoff) of the family members that reproduce the statement
    (:func:`collapse_family`); the one member notebook 12, the verdicts and the simulated data use."""
    ok = family[family["reproduces"]].reset_index(drop=True)
    if ok.empty:
        raise ModelFitError("lock-collapse family: no member reproduces the statement")
    return ok.iloc[len(ok) // 2]


def chain_parameters(member: pd.Series) -> dict:
    """A family member as LockCollapse parameters, us: the hold is the whole hold at the statement's
    CPU count (hold_per_cpu_us = 0: one CPU count fixes only the total)."""
    return {"think_us": float(member["think_us"]), "hold_base_us": float(member["hold_us"]),
            "hold_per_cpu_us": 0.0, "handoff_us": float(member["handoff_us"])}


def collapse_table(points: pd.DataFrame) -> pd.DataFrame:
    """Which model reproduces the statement, with what parameters (for the verdict table).

    One row per model (USL, MVA, lock collapse): ``reproduces`` (bool), ``x_peak``/``x_later``
    (IOPS the closest member gives at the statement's two guest counts), ``parameters`` (text with
    units) and ``why`` (one sentence)."""
    guests, iops, n_peak, cpus = _statement(points)
    n_later = int(guests.max())
    x_peak, x_later = float(iops[guests == n_peak][0]), float(iops[guests == n_later][0])
    rows = []
    # USL: the steepest fall after a peak at n_peak (sigma = 0, kappa = 1 / n_peak^2)
    lo, _ = peak_ratio_bounds(n_peak, n_later)
    kappa = 1 / n_peak**2
    lam = x_peak / float(usl(n_peak, lam=1.0, sigma=0.0, kappa=kappa))
    rows.append({"model": "USL", "reproduces": lo * x_peak <= x_later * (1 + REPRODUCE_RTOL),
                 "x_peak": x_peak, "x_later": lo * x_peak,
                 "parameters": f"steepest member: lambda = {lam:,.0f} IOPS/guest, sigma = 0, kappa = {kappa:.3g}",
                 "why": f"with sigma, kappa >= 0 and the peak at {n_peak}, X({n_later}) >= "
                        f"{lo:.3f} X({n_peak}) = {lo * x_peak:,.0f}"})
    mva = mva_closest(points)
    xm = mva.predict(np.array([n_peak, n_later], dtype=float))
    rows.append({"model": "MVA (FCFS flush lock)", "reproduces": False, "x_peak": float(xm[0]),
                 "x_later": float(xm[1]),
                 "parameters": (f"closest: think = {mva.params_['think_us']:.2f} us, hold = "
                                f"{mva.params_['hold_base_us']:.2f} us at {cpus} CPUs"),
                 "why": "X(N) of a closed product-form network never decreases: it plateaus at 1/hold"})
    family = collapse_family(points)
    ok = family[family["reproduces"]] if not family.empty else family
    if ok.empty:
        rows.append({"model": "Lock collapse (Boyd-Wickizer 2012)", "reproduces": False,
                     "x_peak": math.nan, "x_later": math.nan, "parameters": "no member fits",
                     "why": "no handoff cost in 0..0.5 us reproduces both points with the peak at 5"})
    else:
        mid = middle_member(family)

        def span(col, scale=1.0):
            return f"{ok[col].min() * scale:.3g}..{ok[col].max() * scale:.3g}"

        rows.append({"model": "Lock collapse (Boyd-Wickizer 2012)", "reproduces": True,
                     "x_peak": float(mid[f"x_at_{n_peak}"]), "x_later": float(mid[f"x_at_{n_later}"]),
                     "parameters": (f"handoff {span('handoff_us')} us per waiter, hold "
                                    f"{span('hold_us')} us at {cpus} CPUs, think {span('think_us')} us"),
                     "why": "a handoff slowed by every spinning waiter makes throughput fall past the peak"})
    return pd.DataFrame(rows).set_index("model")


def flush_cost_band(dom0_vcpus, *, ranges: dict | None = None) -> pd.DataFrame:
    """Per-request dom0 CPU time of one non-persistent unmap flush, in ns, from the flush-path
    model, as a sensitivity band over ``ranges`` (default ``PUBLISHED_RANGES``).

    cost(P) = hold(P) + handler_us (P - 1), hold(P) = hold_base_us + hold_per_cpu_us (P - 1): the
    initiator spins for the whole hold (smp.c:236), each of the P - 1 remote targets runs the
    handler. Uncontended: waiting for the lock comes on top when guests flush at once (see the
    MVA and lock-collapse models). Columns: dom0_vcpus, targets, cost_ns (middle values),
    cost_low_ns, cost_high_ns (all-low and all-high ends), hold_ns, handler_ns, band (what the
    band is)."""
    r = {**PUBLISHED_RANGES, **(ranges or {})}
    p = np.asarray(dom0_vcpus, dtype=float).ravel()
    if np.any(p < 1) or not np.all(np.isclose(p, np.round(p))):
        raise UsageError(f"dom0_vcpus: expected whole numbers >= 1, found {p.tolist()}")
    rows = {"dom0_vcpus": p.astype(int), "targets": (p - 1).astype(int)}
    for i, suffix in ((1, ""), (0, "_low"), (2, "_high")):
        hold = hold_time_us(p, hold_base_us=r["hold_base_us"][i], hold_per_cpu_us=r["hold_per_cpu_us"][i])
        handler = r["handler_us"][i] * (p - 1)
        rows[f"cost{suffix}_ns"] = (hold + handler) * 1e3
        if not suffix:
            rows["hold_ns"], rows["handler_ns"] = hold * 1e3, handler * 1e3
    out = pd.DataFrame(rows)
    out["band"] = BAND_LABEL
    return out


def measured_persistent_costs(memcpy: pd.DataFrame, lookup: pd.DataFrame, *, block_bytes: int = 4096,
                              grants: int = 352) -> dict:
    """Persistent mode's per-request costs measured on this machine (native Linux, not Xen), us:
    ``memcpy_us``, the median cold-cache copy of one block in blkfront's segment layout (C
    program), and ``lookup_us``, the median hit in a flat array of ``grants`` grants (the 2012
    patch's linear search; 352 = 32 ring slots x 11 segments). Tables as
    ``analysis.ingest.mechanisms.load_memcpy`` / ``load_lookup`` return them."""
    copies = memcpy[(memcpy["impl"] == "c") & (memcpy["layout"] == "segments") & (memcpy["cache"] == "cold")
                    & (memcpy["size_bytes"] == block_bytes)]
    hits = lookup[(lookup["structure"] == "flat-array") & (lookup["outcome"] == "hit")
                  & (lookup["n_grants"] == grants)]
    if copies.empty or hits.empty:
        raise UsageError(f"measured costs: expected memcpy samples at {block_bytes} bytes and flat-array "
                         f"hits at {grants} grants, found {len(copies)} and {len(hits)} rows")
    return {"memcpy_us": float(copies["copy_ns"].median()) * 1e-3,
            "lookup_us": float(hits["lookup_ns"].median()) * 1e-3}


def persistent_iops(guests, *, think_us: float, memcpy_us: float, lookup_us: float) -> np.ndarray:
    """Persistent mode in the flush-path models: no flush, so nothing serial is left and each
    guest cycles in think_us + memcpy_us + lookup_us: X(N) = N / (think_us + memcpy_us + lookup_us).
    (The MVA variant adds the dom0 CPU station: ``FlushMVA.predict`` with the hold set to 0.)"""
    guests = np.asarray(guests, dtype=float)
    return 1e6 * guests / (think_us + memcpy_us + lookup_us)


def cpu_scenarios(think_us: float, hold_us: float, handoff_us: float, *, at_cpus: int,
                  guests, dom0_cpus=(4, 24, 64), ranges: dict | None = None) -> pd.DataFrame:
    """Lock-collapse predictions for other dom0 CPU counts, from a chain fitted at ``at_cpus``:
    the fitted hold is split as hold_base + hold_per_cpu (at_cpus - 1) with hold_per_cpu at the
    low/mid/high published values (hold_base >= 0 caps it), then re-evaluated at each count.
    Long table: dom0_cpus, guests, per_cpu (low|mid|high), hold_per_cpu_us, iops."""
    r = {**PUBLISHED_RANGES, **(ranges or {})}
    guests = np.asarray(guests, dtype=float)
    rows = []
    for label, b in zip(("low", "mid", "high"), r["hold_per_cpu_us"]):
        b = min(b, hold_us / max(at_cpus - 1, 1))
        base = hold_us - b * (at_cpus - 1)
        model = LockCollapse(dom0_cpus=at_cpus)
        values = {"think_us": think_us, "hold_base_us": base, "hold_per_cpu_us": b, "handoff_us": handoff_us}
        for p in dom0_cpus:
            x = model.predict(guests, dom0_cpus=p, **values)
            rows += [{"dom0_cpus": int(p), "guests": int(g), "per_cpu": label, "hold_per_cpu_us": b,
                      "iops": float(v)} for g, v in zip(guests, x)]
    return pd.DataFrame(rows)


__all__ = ["PUBLISHED_RANGES", "PUBLISHED_MID", "BAND_LABEL", "hold_budget_us", "collapse_family",
           "mva_closest", "mva_min_ratio", "collapse_table", "flush_cost_band",
           "measured_persistent_costs", "persistent_iops", "cpu_scenarios"]
