"""The collection kit: fio job files, a runbook and the manifest for measuring a real Xen host.

``write(plan, out_dir)`` lays out a folder that is, once the runbook has run on the host, an
experiment folder that ``analysis.ingest.experiment.load`` and ``pgrant-lab report --data`` read:

    OUT/kit.json              what was asked for (marks the folder as kit output)
    OUT/README.md             what to edit and run, in order
    OUT/site.env              the host's facts the kit cannot know (guest addresses, disks); edit it
    OUT/jobs/<rw>-<bs>.fio    the job every guest runs (one per block size; the guest count is the
                              number of hosts the fio client drives, not a job option)
    OUT/runbook.sh            runs every manifest row: switches mode, sets dom0 VCPUs, runs fio --client
    OUT/manifest.csv          one row per fio output file the runbook will write under results/

How the runbook switches modes and VCPUs (sources):
- ``feature_persistent`` is a module parameter of both drivers since Linux 5.10, writable in
  ``/sys/module/xen_blkback/parameters/`` and ``/sys/module/xen_blkfront/parameters/`` (Linux
  drivers/block/xen-blkback/xenbus.c and drivers/block/xen-blkfront.c,
  ``module_param(feature_persistent, bool, 0644)``; Documentation/ABI/testing/sysfs-driver-xen-blkback
  and -blkfront: "only takes effect on newly created backends/frontends"). Persistent grants are
  used only when both ends advertise ``feature-persistent`` in xenstore, so the runbook sets both
  and re-attaches the disks after a switch, then reads both xenstore nodes back.
- dom0 VCPUs: ``xl vcpu-set 0 N`` (up to the ``dom0_max_vcpus`` dom0 booted with).
- fio client/server: ``fio --server`` in each guest, ``fio --client=<host list file> job.fio`` on
  the controller; with a host list every server receives the same job (fio HOWTO "Client/Server").
  The client expands ``${PGRANT_DEV}`` in the job file, so every guest uses the same device name.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from analysis.errors import UsageError
from analysis.ingest.experiment import MODES, bs_bytes

# fio 3.33 `fio --cmdhelp=rw` valid values (options.c, option "rw"); the kit also names job files after it.
FIO_RW_PATTERNS = ("read", "write", "trim", "randread", "randwrite", "randtrim", "rw", "readwrite", "randrw",
                   "trimwrite", "randtrimwrite")
MARKER = "kit.json"
DEVICE_VARIABLE = "PGRANT_DEV"
MANIFEST_COLUMNS = ("file", "mode", "guests", "dom0_vcpus", "bs", "run")


@dataclass
class Plan:
    """What to measure: every combination of modes x dom0 VCPUs x guest counts x block sizes x runs.

    ``runtime_s`` is each fio run's measured time in seconds, ``ramp_s`` the unmeasured warm-up
    before it; ``size`` (fio size string, e.g. "64m") limits the region each guest touches and is
    left out when None (fio then uses the whole device). ``filename`` is written as the job's
    ``filename=``; the default is the ``${PGRANT_DEV}`` variable the fio client expands.
    """

    guests: list[int]
    dom0_vcpus: list[int]
    modes: list[str]
    bs: list[str]
    runs: int = 1
    rw: str = "randread"
    iodepth: int = 32
    ioengine: str = "libaio"
    direct: bool = True
    runtime_s: int = 60
    ramp_s: int = 5
    size: str | None = None
    filename: str = "${" + DEVICE_VARIABLE + "}"
    extra: dict = field(default_factory=dict)

    def conditions(self) -> list[dict]:
        """One dict per manifest row, in the order the runbook runs them (mode switches least often)."""
        rows = []
        for mode in self.modes:
            for vcpus in self.dom0_vcpus:
                for guests in self.guests:
                    for bs in self.bs:
                        for run in range(1, self.runs + 1):
                            rows.append({
                                "file": result_path(mode, vcpus, guests, bs, run),
                                "mode": mode, "guests": guests, "dom0_vcpus": vcpus,
                                "bs": bs, "run": run,
                            })
        return rows


def result_path(mode: str, dom0_vcpus: int, guests: int, bs: str, run: int) -> str:
    """Where the runbook writes one run's fio JSON, relative to the kit folder."""
    return f"results/{mode}/dom0-vcpus-{dom0_vcpus}/guests-{guests:02d}-bs-{bs}-run-{run}.json"


def job_path(rw: str, bs: str) -> str:
    return f"jobs/{rw}-{bs}.fio"


def parse_int_list(text: str, option: str) -> list[int]:
    """Parse "1..10", "1,2,4,8" or "1..4,8,16" into sorted unique positive integers."""
    values: set[int] = set()
    for item in text.split(","):
        item = item.strip()
        match = re.fullmatch(r"(\d+)(?:\.\.(\d+))?", item)
        if not match:
            raise UsageError(f"{option} {text}: expected positive integers or ranges like 1..10, found {item!r}")
        low = int(match.group(1))
        high = int(match.group(2) or low)
        if low < 1 or high < low:
            raise UsageError(f"{option} {text}: expected a range low..high with 1 <= low <= high, found {item!r}")
        values.update(range(low, high + 1))
    return sorted(values)


def parse_modes(text: str) -> list[str]:
    modes = [m.strip() for m in text.split(",") if m.strip()]
    bad = [m for m in modes if m not in MODES]
    if bad or not modes:
        raise UsageError(f"--modes {text}: expected a comma list of {', '.join(MODES)}, found {bad or text!r}")
    return list(dict.fromkeys(modes))


def parse_bs_list(text: str) -> list[str]:
    sizes = [s.strip().lower() for s in text.split(",") if s.strip()]
    for s in sizes:
        try:
            bs_bytes(s)
        except ValueError:
            raise UsageError(f"--bs {text}: expected block sizes such as 4k,64k, found {s!r}") from None
    if not sizes:
        raise UsageError(f"--bs {text!r}: expected block sizes such as 4k,64k, found none")
    return list(dict.fromkeys(sizes))


def job_text(plan: Plan, bs: str) -> str:
    """The fio job one guest runs for block size ``bs``."""
    lines = [
        f"; pgrant-lab kit: {plan.rw} of {bs} blocks, one job per guest.",
        "; The guest count is the number of fio servers the client drives (runbook.sh), not a job option.",
        f"; {DEVICE_VARIABLE} is expanded by the fio client: every guest opens the same device name.",
        "[global]",
        f"filename={plan.filename}",
        f"ioengine={plan.ioengine}",
        f"direct={int(plan.direct)}",
        f"rw={plan.rw}",
        f"bs={bs}",
        f"iodepth={plan.iodepth}",
        "numjobs=1",
        "time_based=1",
        f"runtime={plan.runtime_s}",
        f"ramp_time={plan.ramp_s}",
        "group_reporting=1",
    ]
    if plan.size:
        lines.append(f"size={plan.size}")
    lines += [f"{k}={v}" for k, v in plan.extra.items()]
    lines += ["", f"[pgrant-{plan.rw}-{bs}]", ""]
    return "\n".join(lines)


def write(plan: Plan, out_dir: Path, *, command: str = "") -> list[Path]:
    """Write the kit into out_dir and return the files written.

    Refuses (UsageError) a non-empty out_dir unless it holds a previous kit's ``kit.json``; then it
    rewrites only the kit's own files and never touches ``results/`` or anything else there.
    """
    out_dir = Path(out_dir)
    _check_out(out_dir)
    files = {
        MARKER: json.dumps({
            "written_by": "pgrant-lab kit",
            "command": command,
            "date_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "plan": asdict(plan),
        }, indent=2) + "\n",
        "README.md": _readme(plan, command),
        "site.env": _SITE_ENV,
        "runbook.sh": _RUNBOOK,
    }
    for bs in plan.bs:
        files[job_path(plan.rw, bs)] = job_text(plan, bs)
    written = []
    for name, text in files.items():
        path = out_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    (out_dir / "runbook.sh").chmod(0o755)
    written.append(_write_manifest(plan, out_dir / "manifest.csv"))
    return written


def _check_out(out_dir: Path) -> None:
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"--out {out_dir}: expected a folder, found a file")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not (out_dir / MARKER).is_file():
        raise UsageError(
            f"--out {out_dir}: expected an empty folder or a previous kit's output (with {MARKER}), "
            "found other files; choose another folder"
        )


def _write_manifest(plan: Plan, path: Path) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(MANIFEST_COLUMNS), lineterminator="\n")
        writer.writeheader()
        writer.writerows(plan.conditions())
    return path


def _readme(plan: Plan, command: str) -> str:
    return f"""# pgrant-lab collection kit

Written by `{command or 'pgrant-lab kit'}`. It measures aggregate fio IOPS over {len(plan.guests)}
guest counts ({plan.guests[0]}..{plan.guests[-1]}), dom0 VCPUs {plan.dom0_vcpus}, modes {plan.modes},
block sizes {plan.bs}, {plan.runs} run(s) each: {len(plan.conditions())} fio runs of
{plan.runtime_s} s (+{plan.ramp_s} s ramp).

1. Edit `site.env`: guest addresses, domain names, the guest test disk, how to re-attach disks.
   The guests need Linux >= 5.10 (blkfront `feature_persistent`), dom0 too (blkback), and fio.
2. `DRY_RUN=1 ./runbook.sh` prints every command it would run; read it.
3. `./runbook.sh` in dom0 (or on a controller that can ssh to dom0 and the guests). It starts
   `fio --server` in each guest, then for each row of `manifest.csv` switches mode (module
   parameters + disk re-attach) and dom0 VCPUs when they change, and runs
   `fio --client=<the first N guests> --output-format=json --output=results/...json jobs/...fio`.
   Rows whose result file exists are skipped, so it can be re-run after an interruption.
4. Copy this folder to a machine with pgrant-lab and run
   `pgrant-lab report --data THIS_FOLDER --out report/`.

`manifest.csv` is the experiment layout `pgrant-lab report --data` reads: delete rows you do not
want to run; add columns for other conditions (they are kept as conditions).

Each time it switches mode the runbook proves, per guest device, the mode both ends negotiated:
xenstore `backend/vbd/<domid>/<dev>/feature-persistent` and the frontend's
`device/vbd/<dev>/feature-persistent` must both be 1 for persistent grants (both not 1 otherwise).
It appends what it read to `results/negotiated-modes.csv` (time, mode, domain, device, backend,
frontend, negotiated) and stops when a value cannot be read or differs from the row's mode: Linux
5.10-5.19 could negotiate something else than the module parameters ask for (commits e94c6101e151
and 402c43ea6b34; fixed by fc9be616bb8f, "xen-blkback: fix persistent grants negotiation").
"""


_SITE_ENV = r"""# Facts about your host that the kit cannot know. runbook.sh sources this file (bash).
# Guest addresses reachable by ssh and by the fio client (port 8765), in the order guests are added.
GUEST_HOSTS="10.0.0.11 10.0.0.12 10.0.0.13 10.0.0.14 10.0.0.15 10.0.0.16 10.0.0.17 10.0.0.18 10.0.0.19 10.0.0.20"
# The same guests' xl domain names, same order.
GUEST_DOMAINS="guest01 guest02 guest03 guest04 guest05 guest06 guest07 guest08 guest09 guest10"
# The test disk as the guests see it (expanded by the fio client into each job's filename=).
PGRANT_DEV=/dev/xvdb
# The guest virtual device (xl block-attach vdev=) and its backing target per domain (%s = domain name).
GUEST_VDEV=xvdb
DISK_TARGET_PATTERN=/dev/vg0/pgrant-%s
# How to run a command in dom0 and in a guest. Empty DOM0_SHELL: the runbook runs in dom0 itself.
DOM0_SHELL=""
GUEST_SHELL="ssh -n -o BatchMode=yes root@"

# Re-create every guest's test disk so both drivers re-negotiate feature-persistent
# (the module parameters only apply to newly created backends/frontends). Replace if your disks differ.
reattach_disks() {
    for d in $GUEST_DOMAINS; do
        in_dom0 xl block-detach "$d" "$GUEST_VDEV"
        in_dom0 xl block-attach "$d" "format=raw, vdev=$GUEST_VDEV, access=rw, target=$(printf "$DISK_TARGET_PATTERN" "$d")"
    done
}
"""


_RUNBOOK = r"""#!/usr/bin/env bash
# pgrant-lab kit runbook: runs every row of manifest.csv on a Xen host. Edit site.env first.
#   DRY_RUN=1 ./runbook.sh   print the commands instead of running them
#   ./runbook.sh             run them; rows whose results file exists are skipped
set -euo pipefail
cd "$(dirname "$0")"
# shellcheck source=/dev/null
. ./site.env
export PGRANT_DEV

run() { if [ -n "${DRY_RUN:-}" ]; then echo "+ $*"; else "$@"; fi; }
in_dom0() { run $DOM0_SHELL "$@"; }
in_guest() { local host=$1; shift; run ${GUEST_SHELL}${host} "$@"; }
guest_list() { echo $GUEST_HOSTS | tr ' ' '\n' | head -n "$1"; }

start_servers() {
    for h in $GUEST_HOSTS; do
        in_guest "$h" "fio --server=,${FIO_PORT:-8765} --daemonize=/run/pgrant-fio-server.pid"
    done
}

set_mode() {  # persistent | non-persistent
    local value=Y
    if [ "$1" = non-persistent ]; then value=N; fi
    # Linux >= 5.10 drivers/block/xen-blkback/xenbus.c, drivers/block/xen-blkfront.c:
    # module_param(feature_persistent, bool, 0644); applies to newly created backends/frontends.
    in_dom0 sh -c "echo $value > /sys/module/xen_blkback/parameters/feature_persistent"
    for h in $GUEST_HOSTS; do
        in_guest "$h" "echo $value > /sys/module/xen_blkfront/parameters/feature_persistent"
    done
    reattach_disks
    check_mode "$1"
}

check_mode() {  # prove, per device, which mode both ends negotiated; record it; refuse what cannot be proven
    # Persistent grants are used only when the backend (backend/vbd/<domid>/<dev>/feature-persistent)
    # and the frontend (device/vbd/<dev>/feature-persistent) both write 1: since Linux 5.10 blkback
    # decides from the frontend's value and its own module parameter, then advertises its decision.
    # Linux 5.10-5.19 got this wrong in both directions: e94c6101e151 ("xen-blkback: Apply
    # 'feature_persistent' parameter when connect") and 402c43ea6b34 ("xen-blkfront: Apply
    # 'feature_persistent' parameter when connect") made each end wait for the other, so neither
    # advertised; fc9be616bb8f ("xen-blkback: fix persistent grants negotiation") and its blkfront
    # twin fixed it. So the module parameters prove nothing: only what xenstore says per device does.
    local want=1 d domid devid back front got log=results/negotiated-modes.csv
    if [ "$1" = non-persistent ]; then want=0; fi
    if [ -n "${DRY_RUN:-}" ]; then
        echo "+ check and record xenstore feature-persistent = $want (backend and frontend) per device of $GUEST_DOMAINS in $log"
        return
    fi
    mkdir -p results
    if [ ! -e "$log" ]; then echo "time_utc,mode,domain,domid,device,backend,frontend,negotiated" > "$log"; fi
    for d in $GUEST_DOMAINS; do
        domid=$($DOM0_SHELL xl domid "$d") || { echo "runbook: cannot find the domid of $d, so its mode cannot be proven" >&2; exit 1; }
        devs=$($DOM0_SHELL xenstore-list "/local/domain/0/backend/vbd/$domid") || devs=""
        if [ -z "$devs" ]; then echo "runbook: $d has no vbd in xenstore, so its mode cannot be proven" >&2; exit 1; fi
        for devid in $devs; do
            back=$($DOM0_SHELL xenstore-read "/local/domain/0/backend/vbd/$domid/$devid/feature-persistent") || back=""
            front=$($DOM0_SHELL xenstore-read "/local/domain/$domid/device/vbd/$devid/feature-persistent") || front=""
            if [ -z "$back" ] || [ -z "$front" ]; then
                echo "runbook: $d device $devid: feature-persistent unreadable (backend '$back', frontend '$front'), so its mode cannot be proven" >&2; exit 1
            fi
            got=0; if [ "$back" = 1 ] && [ "$front" = 1 ]; then got=1; fi
            echo "$(date -u +%Y-%m-%dT%H:%M:%SZ),$1,$d,$domid,$devid,$back,$front,$got" >> "$log"
            if [ "$got" != "$want" ]; then
                echo "runbook: $d device $devid negotiated feature-persistent=$got (backend $back, frontend $front), expected $want for $1" >&2; exit 1
            fi
        done
    done
}

record_host() {
    mkdir -p results
    { date -u; uname -a; $DOM0_SHELL xl info; $DOM0_SHELL xl list; } > results/host-facts.txt 2>&1 || true
}

hosts_file=$(mktemp)
trap 'rm -f "$hosts_file"' EXIT
if [ -z "${DRY_RUN:-}" ]; then record_host; fi
start_servers
current_mode="" current_vcpus=""
exec 3< manifest.csv
read -r _header <&3
while IFS=, read -r file mode guests vcpus bs run _rest <&3; do
    if [ -e "$file" ]; then echo "skip $file (exists)"; continue; fi
    if [ "$mode" != "$current_mode" ]; then set_mode "$mode"; current_mode=$mode; fi
    if [ "$vcpus" != "$current_vcpus" ]; then in_dom0 xl vcpu-set 0 "$vcpus"; current_vcpus=$vcpus; fi
    guest_list "$guests" | sed "s/\$/,${FIO_PORT:-8765}/" > "$hosts_file"
    if [ "$(wc -l < "$hosts_file")" -lt "$guests" ]; then
        echo "runbook: $file needs $guests guests, site.env GUEST_HOSTS has fewer" >&2; exit 1
    fi
    job=$(ls jobs/*-"$bs".fio | head -n 1)
    if [ -z "${DRY_RUN:-}" ]; then mkdir -p "$(dirname "$file")"; fi
    run fio --client="$hosts_file" --output-format=json --output="$file" "$job"
done
"""
