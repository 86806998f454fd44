"""The 2012 thread's claims, judged: one row per claim, with a number, its evidence and a verdict.

The claims (who, when, a short verbatim excerpt) are digitized in
``data/raw/seed-thread/thread-claims.csv``. This module opens no file: it takes the tables
``analysis.ingest.bundle.load_bundled`` read (the thread's figures, the mechanisms measured on this
machine) and the simulator's data sets ``analysis.simulated.grants.read_all`` read
(``SIMULATED_SETS``). For each claim it computes a number by calling the module that owns it
(``analysis.xen.blkif`` for ring and memory figures, ``analysis.models`` for the USL bound on the
thread's IOPS and the line through the measured medians) and hands that number to a small pure
``judge_*`` function that decides the verdict. Notebook ``00-verdicts`` shows the table:
``verdict_table(inputs, simulated)``.

Verdicts (``VERDICTS``): "holds", "holds with a caveat", "wrong", "inconsistent with the model"
(the thread's figures cannot all be true for the named model) and "cannot be judged from this
data". A number measured here judges only the mechanism (what an unmap, a copy or a lookup costs on
a modern x86 CPU), never Xen's IOPS.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from analysis import constants as C
from analysis import machine
from analysis.errors import PgrantLabError
from analysis.ingest import mechanisms as mech
from analysis.ingest.bundle import Inputs, Measured
from analysis.models import MedianLine, peak_ratio_bounds
from analysis.models.budget import cpu_seconds_per_second
from analysis.simulated import grants as datasets
from analysis.xen import blkif
from analysis.xen.grants import Lru, NonPersistent, PersistentArray, PersistentTree

HOLDS = "holds"
CAVEAT = "holds with a caveat"
WRONG = "wrong"
INCONSISTENT = "inconsistent with the model"
UNJUDGED = "cannot be judged from this data"
VERDICTS = (HOLDS, CAVEAT, WRONG, INCONSISTENT, UNJUDGED)

# Thresholds for "little" (choices of this project, stated in notebook 00): a cost under 1 % of one
# CPU is negligible ("very little, if any"); 10 % of a CPU is a share a dom0 operator would notice
# (the same threshold notebook 06 uses for lookup_crossover).
NEGLIGIBLE_SHARE = 0.01
NOTICEABLE_SHARE = 0.10
# Ian's "good batching": at least this many times the pages per flush of non-persistent unmapping.
BATCH_GAIN = 2.0
# Jan's "significant impact": the cost per request at least doubles across the cap.
CLIFF_FACTOR = 2.0
# "As costly as the worse extreme": within 2 % of it (the simulator's counts are exact; 2 % absorbs
# the requests served before the store filled).
EXTREME_RTOL = 0.02

# Ian Campbell: "N/M (M perhaps in {2,3,4})".
IAN_M = (2, 4)
KIB = blkif.KIB

# The notebook page that explains each claim (the report writes NN-topic.html beside 00-verdicts.html).
PAGES = {
    "ring": "02-ring-size-and-memory",
    "scaling": "03-scaling-usl",
    "memcpy": "05-memcpy-overhead",
    "lookup": "06-gref-lookup",
    "unmap": "07-unmap-shootdown-here",
    "grants": "08-grant-policies",
    "flush": "12-flush-path",
}

# The thread's MB/GB/k are binary (blkif.CLAIM_UNIT_BYTES); the table says so.
BINARY_UNITS = {"MB": "MiB", "Mb": "MiB", "GB": "GiB", "k": "KiB"}
COMPUTED_FROM_SOURCES = "computed from the Linux/Xen sources (blkif.h, ring.h layouts)"
RATE_FROM_THREAD = "IOPS per guest digitized from the thread"
DIGITIZED_AND_USL = "digitized from the thread; bound computed from the USL (Gunther 2007, eq. 4.31, 4.33)"
DIGITIZED_AND_FLUSH_MODELS = ("digitized from the thread; fitted flush-path models (USL, exact MVA, the "
                              "lock-collapse chain of Boyd-Wickizer et al. 2012), validated by simulation")


@dataclass(frozen=True)
class Verdict:
    """A verdict (one of ``VERDICTS``) and the one-line reason for it."""

    verdict: str
    reason: str

    def __post_init__(self):
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict: expected one of {', '.join(VERDICTS)}, found {self.verdict!r}")


# ---------------------------------------------------------------------------------------------
# Judges: small pure functions, numbers in, verdict out.


def judge_memory(holds: bool, premise_ok: bool, builds_on_earlier: bool) -> Verdict:
    """A ring-size or memory figure of the thread.

    holds: the figure equals the computed one under the claim's own premise (``blkif.judge_claims``).
    premise_ok: the slot count it assumes is what a one-page ring really holds.
    builds_on_earlier: the claim reasons from a figure an earlier message stated ("This 11MB per
    VBD ..."), so its arithmetic is the author's and its premise is not.
    """
    if not holds:
        return Verdict(WRONG, "the computed value differs from the claimed one")
    if premise_ok:
        return Verdict(HOLDS, "right arithmetic on the right ring size")
    if builds_on_earlier:
        return Verdict(CAVEAT, "right arithmetic on the earlier message's ring size, which is wrong")
    return Verdict(WRONG, "right arithmetic on a wrong ring size")


def judge_usl_peak(claimed_ratio: float, bounds: tuple[float, float]) -> Verdict:
    """X(later) / X(peak) claimed, against the range every USL peaking at the claimed load allows
    (``analysis.models.peak_ratio_bounds``)."""
    lo, hi = bounds
    if lo <= claimed_ratio <= hi:
        return Verdict(CAVEAT, "consistent with a USL; no Xen host here to re-measure it")
    return Verdict(INCONSISTENT, "no USL with sigma, kappa >= 0 peaks there and falls that far; "
                                 "the peak, the fall or the rounding of the figures is off")


def judge_growth(slope_ci: tuple[float, float], x_values: int) -> Verdict:
    """Does a cost grow with the number of CPUs? slope_ci: 95 % interval of the growth per CPU;
    x_values: distinct CPU counts measured (two points show a step, not a trend)."""
    lo, hi = slope_ci
    if hi < 0:
        return Verdict(WRONG, "the cost falls as CPUs are added")
    if lo <= 0:
        return Verdict(UNJUDGED, "the growth per CPU is not distinguishable from zero")
    if x_values < 3:
        return Verdict(UNJUDGED, f"a remote CPU adds cost here, but {x_values} CPU counts on this machine (native "
                                 "Linux, not Xen) cannot show how Xen's flush scales with dom0 VCPUs")
    return Verdict(HOLDS, "the cost grows with every CPU added")


def judge_cost_share(best: float, worst: float, *, negligible: float = NEGLIGIBLE_SHARE,
                     noticeable: float = NOTICEABLE_SHARE) -> Verdict:
    """A claim that a cost is low, given its CPU share (1.0 = one CPU) in the best and worst case."""
    if worst < negligible:
        return Verdict(HOLDS, f"under {negligible:.0%} of a CPU even in the worst case")
    if best >= noticeable:
        return Verdict(WRONG, f"at least {noticeable:.0%} of a CPU even in the best case")
    return Verdict(CAVEAT, f"low in the best case, {worst:.0%} of a CPU in the worst")


def judge_between(mixed: dict, first: dict, second: dict, *, rtol: float = EXTREME_RTOL) -> Verdict:
    """Is a mixed mode "somewhere in between" two pure modes? Each dict maps a cost count (e.g.
    grant maps per request, bytes copied per request) to its value; the same keys in all three."""
    keys = sorted(first)
    worse = {k: max(first[k], second[k]) for k in keys}
    better = {k: min(first[k], second[k]) for k in keys}
    if all(mixed[k] >= worse[k] * (1 - rtol) for k in keys):
        return Verdict(WRONG, "as costly as the worse mode on every count: worse than either extreme")
    if all(better[k] <= mixed[k] <= worse[k] for k in keys):
        return Verdict(HOLDS, "between the two modes on every count")
    return Verdict(CAVEAT, "outside the two modes on some count; the order depends on the costs")


def judge_batching(pages_per_flush: dict, baseline: float, *, gain: float = BATCH_GAIN) -> Verdict:
    """Ian's "good batching on the unmaps": pages unmapped per TLB flush in each named scenario,
    against ``baseline`` (non-persistent: one request's pages per flush)."""
    good = {name: value >= gain * baseline for name, value in pages_per_flush.items()}
    if all(good.values()):
        return Verdict(HOLDS, f"at least {gain:g}x the pages per flush in every scenario")
    if any(good.values()):
        bad = ", ".join(name for name, ok in good.items() if not ok)
        return Verdict(CAVEAT, f"good batching except: {bad}")
    return Verdict(WRONG, "no better batching than non-persistent unmapping")


def judge_collapse(models: pd.DataFrame) -> Verdict:
    """The thread's peak and fall against the flush-path models (``analysis.models.flush_path.
    collapse_table``: one row per model with ``model`` and ``reproduces``). The thread is data: when
    a model cannot reproduce it, the model fails, not the thread."""
    good = models.loc[models["reproduces"].astype(bool), "model"].tolist()
    bad = models.loc[~models["reproduces"].astype(bool), "model"].tolist()
    if not good:
        return Verdict(UNJUDGED, f"none of the models ({', '.join(bad)}) reproduces the peak and the fall")
    return Verdict(CAVEAT, f"reproduced by {', '.join(good)} (a spinning flush lock whose handoff grows with "
                           f"its waiters); {', '.join(bad)} cannot fall that fast; no Xen host here to re-measure")


def judge_crash(crashed_at_request: int | None) -> Verdict:
    """A cap meant to stop a DoS, given the request (from 1) at which a guest's trace crashes dom0
    in the simulator (None: it never does)."""
    if crashed_at_request is None:
        return Verdict(HOLDS, "no guest trace reaches the BUG_ON: the cap bounds the mapped pages")
    return Verdict(WRONG, f"the cap is itself a DoS: a guest's request {crashed_at_request} reaches the "
                          "patch's BUG_ON and panics dom0")


def judge_cliff(cost_below: float, cost_above: float, *, factor: float = CLIFF_FACTOR) -> Verdict:
    """Jan's unpredictability: the cost per request just below and just above the backend's cap,
    which the guest does not know. A jump of ``factor`` or more is a cliff the guest cannot foresee."""
    if cost_above > 0 and cost_above >= factor * cost_below:
        return Verdict(HOLDS, f"the cost per request jumps from {cost_below:.2g} to {cost_above:.2g} "
                              "at a cap the guest cannot see")
    return Verdict(WRONG, "the cost changes smoothly across the cap")


# ---------------------------------------------------------------------------------------------
# Inputs


def _median(summary: pd.DataFrame, folder: Path, **where) -> float:
    sel = summary
    for column, value in where.items():
        sel = sel[sel[column] == value]
    if sel.empty:
        wanted = ", ".join(f"{k}={v}" for k, v in where.items())
        raise PgrantLabError(f"{folder}: samples: expected a configuration with {wanted}, found none")
    return float(sel["median"].iloc[0])


# ---------------------------------------------------------------------------------------------
# Evidence: one function per kind of claim, each returning {claim_id: row}.


def _row(computed: str, evidence: str, verdict: Verdict, page: str, number: float = math.nan,
         unit: str = "") -> dict:
    """One claim's evidence: ``computed`` (the sentence), ``number`` and ``unit`` (the headline
    number alone, for reports/verdicts.csv), ``evidence`` (its kind and source), the verdict, the page."""
    # Four significant digits: what the sentence shows, without float noise (14.051000000000005).
    number = float(f"{number:.4g}") if math.isfinite(number) else math.nan
    return {"computed": computed, "number": number, "unit": unit, "evidence": evidence, "verdict": verdict,
            "page": PAGES[page]}


def memory_evidence(memory_claims: pd.DataFrame, claims: pd.DataFrame, abi: str = "x86_64") -> dict:
    """Ring-size and memory claims (``memory_claims``: memory-claims.csv), judged by
    ``blkif.judge_claims`` and compared with the real one-page ring of ``abi``; ``claims``
    (thread-claims.csv) says which claim builds on an earlier one."""
    judged = blkif.judge_claims(memory_claims, abi).set_index("claim_id")
    builds_on = dict(zip(claims["claim_id"], claims["builds_on"] != ""))
    one_page = blkif.ring_slots(0, abi)
    rows = {}
    for claim_id in claims["claim_id"]:
        if claim_id not in judged.index:
            continue
        r = judged.loc[claim_id]
        if r["quantity"] == "ring_slots":
            computed = f"an order-{int(r['ring_order'])} ring holds {r['computed']:.0f} requests ({abi})"
        else:
            slots = int(r["slots"])
            unit = BINARY_UNITS[r["unit"]]
            if r["quantity"] == "mem_per_host":
                vms, disks = int(r["vms"]), int(r["disks"])
                real = blkif.host_memory(vms, disks, slots=one_page).bytes
                what = f"for {vms} VMs x {disks} disks"
            elif r["quantity"] == "mem_per_device":
                real = blkif.persistent_memory(one_page).bytes
                what = "per device"
            else:
                real = blkif.persistent_memory(one_page).page_pointer_bytes
                what = f"of struct page pointers ({blkif.DOM0_POINTER_BYTES} B per page)"
            scale = blkif.CLAIM_UNIT_BYTES[r["unit"]]
            computed = (f"{r['computed']:.4g} {unit} {what} at {slots} slots x {C.SEGMENTS_PER_REQUEST} pages; "
                        f"a one-page ring ({one_page} slots): {real / scale:.3g} {unit}")
        verdict = judge_memory(bool(r["holds"]), bool(r["premise_ok"]), bool(builds_on[claim_id]))
        number, unit = float(r["computed"]), ("requests" if r["quantity"] == "ring_slots" else BINARY_UNITS[r["unit"]])
        if r["quantity"] in ("mem_per_host", "page_pointer_array"):
            computed, verdict = _pages_are_dom0_memory(r, computed, verdict, abi)
        rows[claim_id] = _row(computed, COMPUTED_FROM_SOURCES, verdict, "ring", number, unit)
    return rows


def _pages_are_dom0_memory(r: pd.Series, computed: str, verdict: Verdict, abi: str) -> tuple[str, Verdict]:
    """Each persistent grant of the patch is a page blkback allocates in dom0 (``pers_gnt->page =
    alloc_page(GFP_KERNEL)`` in the patch's xen_blkbk_map): the memory is pages, which David's concern
    counts and Jan's "22k of pointers" leaves out. Today's defaults beside the 2012 figure."""
    if not blkif.DOM0_PAGE_PER_PERSISTENT_GRANT:
        return computed, verdict
    if r["quantity"] == "page_pointer_array":
        return (computed + "; each pointer's page is allocated in dom0 too (alloc_page per grant), so the "
                           "memory is the pages, not the pointers",
                Verdict(WRONG, "right arithmetic for the pointers, but the patch allocates a dom0 page per "
                               "persistent grant: the pages are the memory"))
    vms, disks = int(r["vms"]), int(r["disks"])
    both = blkif.memory_2012_and_today(vms, disks, abi)
    computed += (f"; every grant is a dom0 page (alloc_page): {both['gib_2012']:.2f} GiB in 2012, "
                 f"{both['mib_today']:,.0f} MiB ({both['gib_today']:.1f} GiB) with today's defaults "
                 f"({C.LINUX_FRONTEND_MAX_QUEUES} queues, {C.LINUX_FRONTEND_MAX_INDIRECT_SEGMENTS} indirect segments, "
                 f"{C.LINUX_MAX_PERSISTENT_GRANTS} grants per ring)")
    return computed, Verdict(CAVEAT, "the concern holds (every grant pins a dom0 page, and today's defaults need "
                                     f"{both['gib_today']:.1f} GiB); the > 3 GB figure rests on the 256-slot ring")



def scaling_evidence(seed: dict, scaling: pd.DataFrame) -> dict:
    """The IOPS peak and decline (``seed``: ``analysis.ingest.thread.seed_points``; ``scaling``: the
    same points as a table) against the three flush-path models (``analysis.models.flush_path.
    collapse_table``: USL, exact MVA of a FCFS flush lock, the lock-collapse chain)."""
    from analysis.models.flush_path import collapse_table

    p = seed
    models = collapse_table(scaling).reset_index()
    lo, _ = peak_ratio_bounds(p["n_peak"], p["n_later"])
    parts = [f"{m['model']}: {'reproduces it' if m['reproduces'] else 'cannot'} ({m['parameters']})"
             for m in models.to_dict("records")]
    computed = (f"{p['x_peak']:,.0f} IOPS at {p['n_peak']} guests, {p['x_later']:,.0f} at {p['n_later']} "
                f"({p['dom0_vcpus']} dom0 VCPUs); any USL peaking there keeps >= {lo * p['x_peak']:,.0f}. "
                + "; ".join(parts))
    evidence = DIGITIZED_AND_FLUSH_MODELS
    return {"iops-peak-decline": _row(computed, evidence, judge_collapse(models), "flush",
                                      p["x_later"] / p["x_peak"], "X(10) / X(5)")}


def unmap_evidence(unmap: Measured, seed: dict) -> dict:
    """Unmap + TLB shootdown cost vs remote CPUs, measured here (munmap of one page; ``unmap``:
    the unmap-shootdown samples and manifest), beside the thread's dom0 VCPUs (``seed``)."""
    samples = unmap.samples
    single = samples[(samples["op"] == "munmap") & (samples["pages_per_call"] == 1)]
    fit = MedianLine(n_boot=400, seed=0).fit(single["remote_threads"], single["call_ns"])
    slope_ci = fit.ci_["slope"]
    lo, hi = slope_ci
    computed = (f"one-page munmap {fit.params_['intercept'] / 1e3:.1f} us alone, +{fit.params_['slope'] / 1e3:.1f} us "
                f"[95% CI {lo / 1e3:.1f}, {hi / 1e3:.1f}] per remote CPU "
                f"({len(fit.points_)} CPU counts; dom0 in the thread had "
                f"{seed['dom0_vcpus']} VCPUs)")
    computed += "; a labelled native-Linux comparison: the flush-path model on the thread's figures is row iops-peak-decline"
    return {"unmap-shootdown": _row(computed, f"{machine.label(unmap.manifest)} (comparison only)",
                                    judge_growth(slope_ci, len(fit.points_)), "unmap",
                                    fit.params_["slope"] / 1e3, "us per remote CPU (munmap here)")}


def memcpy_evidence(memcpy: Measured, seed: dict) -> dict:
    """blkfront's extra 4 KiB copy, measured here (``memcpy``), as a share of one guest VCPU at the
    thread's per-guest rate (peak IOPS / guests, ``seed``); warm cache is the best case, cold the worst."""
    folder, manifest = memcpy.folder, memcpy.manifest
    summary = mech.summarize(memcpy.samples, ["impl", "layout", "cache", "size_bytes"], "copy_ns")
    page_ns = {cache: _median(summary, folder, impl="c", layout="segments", cache=cache, size_bytes=C.PAGE_BYTES)
               for cache in ("warm", "cold")}
    p = seed
    per_guest_iops = p["x_peak"] / p["n_peak"]
    share = {cache: cpu_seconds_per_second(ns, per_guest_iops) for cache, ns in page_ns.items()}
    computed = (f"4 KiB copy {page_ns['warm']:.0f} ns warm / {page_ns['cold']:.0f} ns cold; at the thread's "
                f"{per_guest_iops:,.0f} IOPS per guest: {share['warm']:.1%} / {share['cold']:.1%} of a guest VCPU")
    verdict = judge_cost_share(share["warm"], share["cold"])
    return {"memcpy-cost": _row(computed, f"{machine.label(manifest)}; {RATE_FROM_THREAD}", verdict, "memcpy",
                                100 * share["cold"], "% of a guest VCPU (cold cache)")}


def lookup_evidence(lookup: Measured, seed: dict, abi: str = "x86_64") -> dict:
    """The patch's linear gref search (pointer array, hits), measured here, as a share of one
    blkback thread at the thread's per-guest rate (``lookup``: the gref-lookup samples measured
    here; ``seed``: the thread's scaling points).

    blkback looks up one gref per segment, so lookups/s = 4 KiB pages/s however the pages group
    into requests (``analysis.models.lookup.pages_per_s``): the thread's 4 KiB IOPS per guest. The
    array holds what the 2012 blkfront granted, which is at most slots x segments (its pool grows
    only when the free list is empty: ``analysis.xen.grants.frontend.reachable_grants_2012``),
    so the best case is one ring of 1-segment requests (32 grants) and the worst the reachable 352;
    the patch's cap of 2816 is never reached by that frontend.
    """
    from analysis.models.lookup import lookup_cpu_share, pages_per_s
    from analysis.xen.grants.frontend import reachable_grants_2012

    folder, manifest = lookup.folder, lookup.manifest
    summary = mech.summarize(lookup.samples, ["structure", "outcome", "n_grants"], "lookup_ns")
    slots = blkif.ring_slots(0, abi)
    n_small, n_large = reachable_grants_2012(slots, 1), reachable_grants_2012(slots, C.SEGMENTS_PER_REQUEST)
    hit_ns = {n: _median(summary, folder, structure="ptr-array", outcome="hit", n_grants=n) for n in (n_small, n_large)}
    p = seed
    per_guest_iops = p["x_peak"] / p["n_peak"]
    lookups = float(pages_per_s(per_guest_iops))
    best = float(lookup_cpu_share(lookups, hit_ns[n_small]))
    worst = float(lookup_cpu_share(lookups, hit_ns[n_large]))
    computed = (f"one lookup (hit) {hit_ns[n_small]:.0f} ns at n = {n_small} grants, {hit_ns[n_large]:.0f} ns at "
                f"n = {n_large} (the most a 2012 blkfront grants: {slots} slots x {C.SEGMENTS_PER_REQUEST}); "
                f"{lookups:,.0f} lookups/s per guest (one per 4 KiB page): {best:.2%} to {worst:.2%} of a CPU; "
                f"n = {C.PATCH_2012_MAX_PERSISTENT_GRANTS} (the patch's cap) is never reached by that frontend")
    return {"linear-search": _row(computed, f"{machine.label(manifest)}; {RATE_FROM_THREAD}",
                                  judge_cost_share(best, worst), "lookup", 100 * worst,
                                  f"% of a CPU at n = {n_large}")}


def _simulated(meta: dict, name: str) -> str:
    return f"simulated: {meta['model'].split(' (')[0]}, data/simulated/{name}.csv"


def _per_request(row: pd.Series, column: str) -> float:
    return float(row[column]) / float(row["requests"])


class _Cliff:
    """The fallback-cliff data set (random order) with per-request counts by policy and working set."""

    NAME = "grants-cliff-simulated"

    def __init__(self, table: pd.DataFrame, meta: dict):
        self.meta = meta
        self.cap = int(self.meta["parameters"]["cap_pages"])
        self.table = table[table["order"] == "random"].set_index(["label", "working_set_pages"])
        sizes = sorted(set(self.table.index.get_level_values(1)))
        self.below = max(w for w in sizes if w < self.cap)
        self.above = min(w for w in sizes if w > self.cap)
        self.source = _simulated(self.meta, self.NAME)

    def per_request(self, label: str, working_set_pages: int, column: str) -> float:
        return _per_request(self.table.loc[(label, working_set_pages)], column)

    def counts(self, label: str, working_set_pages: int) -> dict:
        """Grant maps and bytes the guest copies, per request."""
        return {"maps": self.per_request(label, working_set_pages, "maps"),
                "copy_bytes": self.per_request(label, working_set_pages, "memcpy_bytes")}


LRU_SET = "grants-lru-tradeoff-simulated"
MALICIOUS_SET = "grants-malicious-simulated"
SIMULATED_SETS = (_Cliff.NAME, LRU_SET, MALICIOUS_SET)

PATCH_RULE = datasets.label(PersistentArray(cap=1))
PER_GREF_RULE = datasets.label(PersistentTree(cap=1, fallback="gref"))
NON_PERSISTENT = datasets.label(NonPersistent())


def fallback_evidence(cliff: _Cliff) -> dict:
    """Oliver's "somewhere inbetween the two extremes": the 2012 rule with its store full (working
    set = cap) against the same rule below the cap (persistent) and non-persistent mapping."""
    at_cap, persistent = cliff.counts(PATCH_RULE, cliff.cap), cliff.counts(PATCH_RULE, cliff.below)
    non_persistent = cliff.counts(NON_PERSISTENT, cliff.cap)
    from analysis.xen.grants.fallback import frontend_2012_falls_back, steady_state_fallback_share, warmup_requests

    fallback_share = cliff.per_request(PATCH_RULE, cliff.cap, "fallback_requests")
    requests = int(cliff.meta["parameters"]["requests"])
    steady = steady_state_fallback_share(cliff.cap, cliff.cap)
    warmup = warmup_requests(cliff.cap, cliff.cap)
    never = not frontend_2012_falls_back()
    computed = (f"2012 rule, working set = cap = {cliff.cap} pages: after a warm-up of about {warmup:.0f} requests "
                f"(W H(W) segments, a coupon collector) {steady:.0%} of requests fall back for ever "
                f"({fallback_share:.1%} over the {requests:,} simulated requests only measures the trace's length); "
                f"the cap check runs before the lookup, so a full array maps again and still copies: "
                f"{at_cap['maps']:.2f} grant maps and {at_cap['copy_bytes'] / KIB:.0f} KiB copied per request; "
                f"the same rule below the cap ({cliff.below} pages) {persistent['maps']:.2f} maps + "
                f"{persistent['copy_bytes'] / KIB:.0f} KiB, "
                f"non-persistent {non_persistent['maps']:.2f} maps + {non_persistent['copy_bytes'] / KIB:.0f} KiB"
                + (f". With the patch's own cap ({C.PATCH_2012_MAX_PERSISTENT_GRANTS}) a 2012 blkfront (at most "
                   f"{cliff.cap} grants) never falls back" if never else ""))
    return {"fallback-in-between": _row(computed, cliff.source, judge_between(at_cap, persistent, non_persistent),
                                        "grants", 100 * steady, "% of requests falling back after the warm-up")}


def dos_cap_evidence() -> dict:
    """The patch's cap against a DoS (``BLKIF_MAX_PERS_REQUESTS_PER_DEV``): the shortest guest trace
    of fresh grefs (``analysis.xen.grants.patch.bug_on_trace``) replayed through the patch exactly as
    posted (``Patch2012``): the per-request cap check passes at 2806 grants and ``add_pers_gnt``
    reaches ``BUG_ON(pers_gnt_c >= 2816)``."""
    from analysis.xen.grants.backends import run
    from analysis.xen.grants.patch import Patch2012, bug_on_trace

    totals = run(bug_on_trace(), Patch2012()).totals()
    index = totals["crashed_at_request"]
    before = C.PATCH_2012_MAX_PERSISTENT_GRANTS - C.SEGMENTS_PER_REQUEST + 1
    computed = ("simulated: " + (f"one 1-segment request, then {C.SEGMENTS_PER_REQUEST}-segment requests of fresh "
                                 f"grefs: after {before:,} grants the next request (number {index + 1}) passes "
                                 f"use_pers_gnts (< {C.PATCH_2012_MAX_PERSISTENT_GRANTS}) and add_pers_gnt hits "
                                 f"BUG_ON({C.PATCH_2012_MAX_PERSISTENT_GRANTS} >= {C.PATCH_2012_MAX_PERSISTENT_GRANTS}): "
                                 "dom0 panics" if index is not None else "no trace reaches the BUG_ON"))
    evidence = "simulated: the 2012 patch's blkback as posted (analysis.xen.grants.patch.Patch2012), exact replay"
    return {"patch-dos-cap": _row(computed, evidence, judge_crash(None if index is None else index + 1), "grants",
                                  math.nan if index is None else index + 1, "request that panics dom0")}


def predictability_evidence(cliff: _Cliff) -> dict:
    """Jan's "the guest can't really predict this": grant maps per request just below and at the cap
    under the 2012 rule, with the per-gref rule Linux 3.8 merged beside it."""
    sizes = (cliff.below, cliff.cap, cliff.above)
    patch = [cliff.per_request(PATCH_RULE, w, "maps") for w in sizes]
    per_gref = [cliff.per_request(PER_GREF_RULE, w, "maps") for w in sizes]
    computed = (f"grant maps per request at working sets of {sizes[0]} / {sizes[1]} (the cap, unknown to the "
                f"guest) / {sizes[2]} pages: 2012 rule {' / '.join(f'{v:.2f}' for v in patch)}; "
                f"Linux 3.8's per-gref rule {' / '.join(f'{v:.2f}' for v in per_gref)}")
    return {"jan-unpredictable": _row(computed, cliff.source, judge_cliff(patch[0], patch[1]), "grants",
                                      patch[1], "grant maps per request at the cap")}


def lru_evidence(cliff: _Cliff, lru_set: tuple[pd.DataFrame, dict], malicious_set: tuple[pd.DataFrame, dict]) -> dict:
    """Ian's "good batching on the unmaps": pages per TLB flush under LRU with M = 2..4, on working
    sets above the cap (``lru_set``: grants-lru-tradeoff-simulated) and against a frontend sending
    fresh grefs (``malicious_set``: grants-malicious-simulated), vs non-persistent unmapping."""
    # Xen flushes once per GNTTAB_UNMAP_BATCH_SIZE = 32 unmaps of a hypercall (``tlb_flushes``), so a
    # purge of 176 pages is 6 flushes, not 1.
    baseline = (cliff.per_request(NON_PERSISTENT, cliff.cap, "unmaps")
                / cliff.per_request(NON_PERSISTENT, cliff.cap, "tlb_flushes"))
    lru, lru_meta = lru_set
    ian = lru[lru["m"].between(*IAN_M)]
    lru_pages = float((ian["unmaps"] / ian["tlb_flushes"]).min())
    bad, bad_meta = malicious_set
    ian_labels = [datasets.label(Lru(cap=d["cap"], m=d["m"])) for d in bad_meta["policies"]
                  if d["policy"] == Lru.name and IAN_M[0] <= d["m"] <= IAN_M[1]]
    bad_lru = bad[bad["label"].isin(ian_labels)]
    bad_pages = float(bad_lru["unmaps"].sum() / bad_lru["tlb_flushes"].sum())
    bad_cap = int(bad_meta["parameters"]["cap_pages"])
    computed = (f"pages unmapped per TLB flush (one flush per {C.GNTTAB_UNMAP_BATCH_SIZE} unmaps of a hypercall), "
                f"LRU with M = {IAN_M[0]}..{IAN_M[1]}: at least {lru_pages:.1f} on "
                f"working sets {ian['ratio'].min():g}-{ian['ratio'].max():g}x the cap, {bad_pages:.0f} against "
                f"fresh grefs at cap {bad_cap}; non-persistent: {baseline:.0f}")
    verdict = judge_batching({"working set above the cap": lru_pages,
                              f"fresh grefs with cap = ring slots x {C.SEGMENTS_PER_REQUEST}": bad_pages}, baseline)
    evidence = f"{_simulated(lru_meta, 'grants-lru-tradeoff-simulated')}, grants-malicious-simulated.csv"
    return {"ian-lru-batching": _row(computed, evidence, verdict, "grants", lru_pages, "pages per TLB flush")}


def verdict_table(inputs: Inputs, simulated: dict[str, tuple[pd.DataFrame, dict]]) -> pd.DataFrame:
    """One row per claim of thread-claims.csv, in its order: claim_id, date_utc, author, excerpt,
    computed (the suite's number, with its unit), evidence (computed / digitized / measured on
    <machine>, not Xen / simulated), verdict, reason, page (the notebook to read).

    inputs: ``analysis.ingest.bundle.load_bundled(data_dir)``; simulated: ``{name: (table, sidecar)}``
    for each of ``SIMULATED_SETS`` (``analysis.simulated.grants.read_all(data_dir, SIMULATED_SETS)``).
    """
    claims = inputs.claims
    absent = [name for name in SIMULATED_SETS if name not in simulated]
    if absent:
        raise PgrantLabError(f"simulated: expected the data sets {', '.join(SIMULATED_SETS)}, "
                             f"found no {absent[0]}")
    cliff = _Cliff(*simulated[_Cliff.NAME])
    evidence = {**memory_evidence(inputs.memory_claims, claims), **scaling_evidence(inputs.seed, inputs.scaling),
                **dos_cap_evidence(),
                **unmap_evidence(inputs.unmap, inputs.seed), **memcpy_evidence(inputs.memcpy, inputs.seed),
                **lookup_evidence(inputs.lookup, inputs.seed), **fallback_evidence(cliff),
                **predictability_evidence(cliff),
                **lru_evidence(cliff, simulated[LRU_SET], simulated[MALICIOUS_SET])}
    missing = [c for c in claims["claim_id"] if c not in evidence]
    if missing:
        raise PgrantLabError(f"{inputs.claims_path}: field claim_id: expected a claim the suite "
                             f"judges, found {missing[0]!r}")
    rows = []
    for _, claim in claims.iterrows():
        e = evidence[claim["claim_id"]]
        rows.append({**claim[["claim_id", "date_utc", "author", "excerpt"]].to_dict(),
                     "computed": e["computed"], "number": e["number"], "unit": e["unit"],
                     "evidence": e["evidence"], "verdict": e["verdict"].verdict,
                     "reason": e["verdict"].reason, "page": e["page"]})
    return pd.DataFrame(rows)


def to_html(table: pd.DataFrame) -> str:
    """The verdict table as an HTML table, with each notebook linked as ``<page>.html``."""
    from html import escape

    head = ("<tr><th>who, when (UTC)</th><th>claim</th><th>what the suite finds</th><th>evidence</th>"
            "<th>verdict</th><th>read</th></tr>")
    body = []
    for _, r in table.iterrows():
        body.append(
            "<tr>"
            f"<td>{escape(r['author'])}<br>{escape(r['date_utc'])}</td>"
            f"<td>&ldquo;{escape(r['excerpt'])}&rdquo;</td>"
            f"<td>{escape(r['computed'])}</td>"
            f"<td>{escape(r['evidence'])}</td>"
            f"<td><b>{escape(r['verdict'])}</b>: {escape(r['reason'])}</td>"
            f"<td><a href=\"{escape(r['page'])}.html\">{escape(r['page'])}</a></td>"
            "</tr>")
    # !important: the report's page style right-aligns table cells (numbers); these cells are prose.
    style = ("<style>table.verdicts td, table.verdicts th {text-align: left !important; vertical-align: top; "
             "padding: 4px 8px; border-bottom: 1px solid #ddd} table.verdicts {font-size: 90%}</style>")
    return (f"{style}\n<table class=\"verdicts\">\n<thead>{head}</thead>\n<tbody>\n" + "\n".join(body)
            + "\n</tbody>\n</table>")

