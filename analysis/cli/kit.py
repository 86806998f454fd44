"""``pgrant-lab kit``: write fio job files, a runbook and manifest.csv for measuring a Xen host."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

from analysis.collect import kit
from analysis.errors import UsageError
from analysis.text import inline, shown


def register(sub) -> None:
    p = sub.add_parser("kit", help="write the fio jobs, runbook and manifest to measure a Xen host")
    p.add_argument("--guests", default="1..10", help="guest counts, e.g. 1..10 or 1,2,4,8 (default 1..10)")
    p.add_argument("--dom0-vcpus", default="24", help="dom0 VCPU counts, e.g. 24 or 4,8,24 (default 24)")
    p.add_argument("--modes", default=",".join(kit.MODES), help="comma list of persistent,non-persistent")
    p.add_argument("--bs", default="4k,64k", help="block sizes, e.g. 4k,64k (default 4k,64k)")
    p.add_argument("--runs", type=int, default=3, help="repetitions of each condition (default 3)")
    p.add_argument("--rw", default="randread", help="fio rw= pattern (default randread)")
    p.add_argument("--iodepth", type=int, default=32, help="fio iodepth per guest (default 32)")
    p.add_argument("--runtime-s", type=int, default=60, help="measured seconds per run (default 60)")
    p.add_argument("--ramp-s", type=int, default=5, help="unmeasured warm-up seconds per run (default 5)")
    p.add_argument("--size", default=None, help="fio size= per guest (default: the whole device)")
    p.add_argument("--out", type=Path, required=True, help="folder to write (empty, new, or a previous kit)")
    p.add_argument("--force", action="store_true",
                   help="re-write a previous kit whose site.env or manifest.csv you edited (your edits are lost)")
    p.set_defaults(func=run)


def run(args) -> int:
    for option, value in (("--runs", args.runs), ("--iodepth", args.iodepth), ("--runtime-s", args.runtime_s)):
        if value < 1:
            raise UsageError(f"{option} {value}: expected a positive integer, found {value}")
    if args.ramp_s < 0:
        raise UsageError(f"--ramp-s {args.ramp_s}: expected 0 or more seconds, found {args.ramp_s}")
    if args.rw not in kit.FIO_RW_PATTERNS:
        raise UsageError(f"--rw {inline(args.rw)}: expected one of fio's rw patterns {', '.join(kit.FIO_RW_PATTERNS)}, "
                         f"found {shown(args.rw)}")
    if args.size is not None:
        try:
            kit.bs_bytes(args.size)
        except ValueError:
            raise UsageError(f"--size {inline(args.size)}: expected a fio size such as 4g or 512m, "
                             f"found {shown(args.size)}") from None
    guests = kit.parse_int_list(args.guests, "--guests", most=kit.MAX_GUESTS)
    dom0_vcpus = kit.parse_int_list(args.dom0_vcpus, "--dom0-vcpus", most=kit.MAX_DOM0_VCPUS)
    modes, sizes = kit.parse_modes(args.modes), kit.parse_bs_list(args.bs)
    rows = len(modes) * len(dom0_vcpus) * len(guests) * len(sizes) * args.runs
    if rows > kit.MAX_RUNS:
        raise UsageError(f"--runs {args.runs}: expected at most {kit.MAX_RUNS} fio runs in all (modes x dom0 VCPUs x "
                         f"guest counts x block sizes x runs), found {rows}")
    plan = kit.Plan(
        guests=guests,
        dom0_vcpus=dom0_vcpus,
        modes=modes,
        bs=sizes,
        runs=args.runs, rw=args.rw, iodepth=args.iodepth,
        runtime_s=args.runtime_s, ramp_s=args.ramp_s, size=args.size,
    )
    command = "pgrant-lab " + shlex.join(sys.argv[1:]) if sys.argv[1:2] == ["kit"] else "pgrant-lab kit"
    kit.write(plan, args.out, command=command, force=args.force)
    rows = len(plan.conditions())
    print(f"wrote {args.out} ({rows} fio runs in manifest.csv; edit site.env, then DRY_RUN=1 ./runbook.sh)")
    return 0
