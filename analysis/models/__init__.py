"""Fitted cost models with uncertainty: scaling (USL), TLB shootdown, memcpy, gref lookup.

Every model follows one shape (scikit-learn settings, statsmodels summary, lmfit parameters;
see :mod:`analysis.models.base`):

    model = USL(n_boot=1000, bootstrap="residual", seed=0).fit(guests, total_iops)
    model.params_          # {"lambda": ..., "sigma": ..., "kappa": ...}
    model.stderr_, model.ci_, model.ci_boot_   # standard errors, 95% covariance / bootstrap CIs
    model.summary()        # table with units, both intervals, goodness of fit, numbered Notes
    model.predict(n, kappa=0.0)                # what-if overrides default to the fitted values
    model.to_dict()        # JSON-ready: {"model", "n", "params": {name: {"value", "unit", "ci95"}}}

Hard failures (non-finite input, fewer points than free parameters, no convergence, an unknown
setting) raise :class:`analysis.errors.ModelFitError` / ``UsageError``; soft ones (a parameter at
its bound, unidentified parameters, no residual dof, few points, intervals that disagree) are
Notes, with NaN standard errors and intervals where nothing can be said.

Models, their ``fit`` arguments (units) and ``params_`` names:

=====================  ==========================================  ==============================
class                  fit(...)                                    params_
=====================  ==========================================  ==============================
USL                    fit(n, throughput)  n > 0, any y unit       lambda, sigma, kappa
Amdahl, Linear         as USL, kappa (and sigma) fixed at 0        lambda, sigma, kappa
ShootdownModel         fit(dom0_vcpus, unmap_ns, unmappers=None)   base_ns, per_vcpu_ns,
  kind="linear"|"contention"   VCPUs, ns per unmap, threads        contention (0 if linear)
ShootdownScaling       fit(n_guests, total_iops)  count, IOPS      service_ns, flush_ns, contention_ns
MemcpyModel            fit(nbytes, copy_ns)  bytes, ns per copy    fixed_ns, bw_bytes_s
LookupModel            fit(n_grants, lookup_ns)  count, ns         base_ns, step_ns
  kind="linear"|"log"
FlushMVA               fit(guests, iops), dom0_cpus=P (or x of     think_us, cpu_us, hold_base_us,
  (exact MVA)            shape (2, n): guests, CPUs)  count, IOPS  hold_per_cpu_us, handler_us
LockCollapse           as FlushMVA                                 think_us, hold_base_us,
  (Boyd-Wickizer 2012)                                               hold_per_cpu_us, handoff_us
MedianLine             fit(x, y)  line through the per-x medians   intercept, slope
=====================  ==========================================  ==============================

Derived quantities (one function per concept, overrides for what-if): ``USL.peak()``,
``USL.efficiency(n)``, ``peak_ratio_bounds(n_peak, n_later)``,
``integer_peak_ratio_range(n_peak, n_later)``; ``model.predict_band(x, level=0.95)`` (bootstrap band; ``model.predict_draws(x)`` and ``band(draws, level)`` for derived curves such as a ratio of two fits); ``ShootdownModel.predict(vcpus,
unmappers)``, ``ShootdownModel.throughput(n_guests, dom0_vcpus=, service_ns=, unmaps_per_io=)``,
``ShootdownModel.scaling_params(...)`` (the ShootdownScaling parameters it implies);
``ShootdownScaling.peak()``, ``.contention()``, ``.to_usl()``,
``peak_calibrated(n_peak, x_peak_iops, flush_ns)``; ``MemcpyModel.io_ns(block_bytes)``,
``.cpu_share(iops, block_bytes)``; ``LookupModel.cpu_share(n, iops=)``,
``lookup_crossover(linear, tree, iops=, cpu_share=0.01)``; ``compare({name: fitted})`` ranks fits
of the same data by AIC/BIC.

The flush path (Xen's global flush lock, one flush per 4 KiB request): ``mva_iops``,
``collapse_iops`` (the model functions), ``LockCollapse.peak()``, ``FlushMVA.saturation()``;
:mod:`analysis.models.flush_path` says which model reproduces the 2012 collapse
(``collapse_table(points)``, ``collapse_family``), the hold budget of a peak
(``hold_budget_us``), the per-request dom0 cost band for the decision map (``flush_cost_band``)
and the persistent / other-CPU predictions; :mod:`analysis.models.flush_sim` simulates the same
mechanism (``simulate``).

Simulated data for the models (``data/simulated/``, with a sidecar naming model, parameters and
seed) are written and read by :mod:`analysis.simulated.shootdown`.
"""

from analysis.models.base import CurveModel, FitSummary, Parameter, band, compare
from analysis.models.line import MedianLine
from analysis.models.lock_collapse import LockCollapse, collapse_iops
from analysis.models.lookup import LookupModel, linear_lookup_ns, log_lookup_ns, lookup_crossover
from analysis.models.memcpy import MemcpyModel, memcpy_ns
from analysis.models.mva import FlushMVA, mva_iops
from analysis.models.shootdown import (ShootdownModel, ShootdownScaling, peak_calibrated,
                                      shootdown_iops, unmap_ns)
from analysis.models.usl import USL, Amdahl, Linear, integer_peak_ratio_range, peak_ratio_bounds, usl

__all__ = [
    "USL", "Amdahl", "Linear", "ShootdownModel", "ShootdownScaling", "MemcpyModel",
    "LookupModel", "MedianLine", "CurveModel", "band", "FitSummary", "Parameter", "compare", "usl", "unmap_ns",
    "shootdown_iops", "memcpy_ns", "linear_lookup_ns", "log_lookup_ns", "lookup_crossover",
    "peak_ratio_bounds", "integer_peak_ratio_range", "peak_calibrated", "FlushMVA", "LockCollapse",
    "mva_iops", "collapse_iops",
]
