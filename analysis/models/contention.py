"""The three contention models of a scaling curve (total IOPS against guests), made and compared alike.

``usl`` (:class:`analysis.models.usl.USL`), ``mva`` (:class:`analysis.models.mva.FlushMVA`: exact
MVA of a FCFS flush lock) and ``lock-collapse`` (:class:`analysis.models.lock_collapse.LockCollapse`:
Boyd-Wickizer et al.'s spinning-lock chain). At one dom0 CPU count only the total lock hold is
identified, not its split into a base and a per-CPU part, so the per-CPU terms are fixed at 0 and
``hold_base_us`` is the whole hold at that CPU count (with the published per-CPU cost fixed
instead, as ``pgrant-lab fit --model lock-collapse`` does, a hold shorter than 23 x 0.08 us cannot
be fitted at 24 CPUs, and the thread's own 650k peak allows at most 1.54 us). :func:`compare` fits all three to one curve and scores each by
AIC, BIC and leave-one-guest-count-out prediction error; a model that cannot be fitted is a row
with its reason, never a verdict on the data.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from analysis.errors import ModelFitError, UsageError
from analysis.models.base import CurveModel
from analysis.models.lock_collapse import LockCollapse
from analysis.models.mva import FlushMVA
from analysis.models.usl import USL

NAMES = ("usl", "mva", "lock-collapse")
#: The models' own labels, for tables and legends.
LABELS = {"usl": "USL", "mva": "MVA (FCFS flush lock)", "lock-collapse": "lock collapse (Boyd-Wickizer 2012)"}
#: Guest-count models need whole guests; the USL takes any N > 0.
GUEST_MODELS = ("mva", "lock-collapse")


#: What :func:`make` fixes by default: the per-CPU terms a single dom0 CPU count cannot identify.
DEFAULT_FIXED = {"usl": {}, "mva": {"hold_per_cpu_us": 0.0, "handler_us": 0.0}, "lock-collapse": {"hold_per_cpu_us": 0.0}}


def make(name: str, *, dom0_cpus: int = 24, fixed: dict | None = None, **settings) -> CurveModel:
    """An unfitted contention model by name; ``fixed`` replaces :data:`DEFAULT_FIXED` (e.g. the
    published per-CPU costs, as ``pgrant-lab fit`` fixes them); ``settings`` go to its constructor
    (n_boot, seed, bootstrap, x_unit, y_unit)."""
    if name not in NAMES:
        raise UsageError(f"name={name!r}: expected one of {', '.join(NAMES)}")
    fixed = DEFAULT_FIXED[name] if fixed is None else fixed
    if name == "usl":
        return USL(**settings)
    cls = FlushMVA if name == "mva" else LockCollapse
    return cls(dom0_cpus=dom0_cpus, fixed=fixed, **settings)


def leave_one_out_error(name: str, guests, iops, *, dom0_cpus: int = 24) -> float:
    """Root mean square of the relative error predicting each guest count's mean IOPS from a fit to
    the other guest counts (leave-one-guest-count-out); NaN when a fold cannot be fitted."""
    x, y = np.asarray(guests, dtype=float), np.asarray(iops, dtype=float)
    errors = []
    for g in np.unique(x):
        keep = x != g
        try:
            model = make(name, dom0_cpus=dom0_cpus, n_boot=0).fit(x[keep], y[keep])
        except ModelFitError:
            return math.nan
        truth = float(y[~keep].mean())
        errors.append((float(model.predict(np.array([g]))[0]) - truth) / truth)
    return float(np.sqrt(np.mean(np.square(errors))))


def compare(guests, iops, *, dom0_cpus: int = 24) -> pd.DataFrame:
    """All three models on one curve: one row per model with ``model`` (its label), ``name``,
    ``fitted`` (bool), ``aic``, ``bic``, ``loo_rel_rmse`` (leave-one-guest-count-out relative
    error, see :func:`leave_one_out_error`), ``params`` (text with units) and ``note`` (why a model
    was not fitted, or its own first note)."""
    rows = []
    for name in NAMES:
        row = {"name": name, "model": LABELS[name], "fitted": False, "aic": math.nan, "bic": math.nan,
               "loo_rel_rmse": math.nan, "params": "", "note": ""}
        try:
            model = make(name, dom0_cpus=dom0_cpus, n_boot=0).fit(guests, iops)
        except ModelFitError as err:
            row["note"] = f"not fitted: {err}"
        else:
            units = {p.name: p.unit for p in model.parameters}
            row.update(fitted=True, aic=model.aic_, bic=model.bic_,
                       loo_rel_rmse=leave_one_out_error(name, guests, iops, dom0_cpus=dom0_cpus),
                       params=", ".join(f"{k} = {v:.3g} {units.get(k, '')}".rstrip()
                                        for k, v in model.params_.items() if k not in model.fixed_),
                       note=model.notes_[0] if model.notes_ else "")
        rows.append(row)
    return pd.DataFrame(rows)
