"""Run a kit plan on this machine: "guests" are fio servers on 127.0.0.1, 127.0.0.2, ...

This is how the bundled example experiment and the tests get real fio client/server output without
a Xen host. Each "guest" is a ``fio --server=ip:127.0.0.K,PORT`` process with its own working
folder, so the job's relative ``filename`` gives each guest its own file. The two modes are NOT
persistent and non-persistent grants: they are stand-ins, two different fio settings
(``STAND_IN_MODES``), and every output says so.

    python -m analysis.collect.loopback OUT     measure the bundled example (make data-experiment)
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

from analysis.collect import kit
from analysis import machine, outdir
from analysis.errors import UsageError

# The stand-ins are two fio engines reading the same tmpfs file: psync issues one read() per block,
# which copies it out of the page cache; mmap maps the file into the process and reads it through
# the mapping. They differ in per-request kernel work, as the two grant modes do, and nothing more.
# A mode without overrides runs the kit's job file exactly as written (the plan uses psync).
STAND_IN_MODES = {
    "persistent": {},
    "non-persistent": {"ioengine": "mmap"},
}
STAND_IN_NOTE = (
    "measured on this machine with fio client/server over loopback, NOT Xen: 'guests' are fio "
    "servers on 127.0.0.K reading their own file in tmpfs, and the modes are stand-ins "
    "('persistent' = fio ioengine=psync, one read() copy per block; 'non-persistent' = fio "
    "ioengine=mmap, reads through a mapping of the file)"
)
STAND_IN_TITLE = "bundled example: fio client/server on loopback, measured here, stand-in modes, not Xen"
GUEST_FILE = "guest.dat"
_SERVER_START_TIMEOUT_S = 10.0
#: Ports tried before giving up when a fio server exits at start.
START_ATTEMPTS = 3
_SETTLE_S = 0.2  # after the servers answer: long enough for one that failed to bind to have exited


def free_port() -> int:
    """A TCP port free on every local address right now (the OS picks it), so on each 127.0.0.k."""
    with socket.socket() as s:
        s.bind(("0.0.0.0", 0))
        return s.getsockname()[1]


class FioServers:
    """``n`` fio servers on 127.0.0.1..127.0.0.n, one port, each in its own working folder.

    A context manager: the servers are stopped on exit, also when the body raised.
    """

    def __init__(self, n: int, work_dir: Path, *, port: int | None = None, fio: str = "fio"):
        self.n = n
        self.work_dir = Path(work_dir)
        self._chosen_port = port
        self.port = port or free_port()
        self.fio = fio
        self.procs: list[subprocess.Popen] = []

    @property
    def hosts(self) -> list[str]:
        return [f"127.0.0.{k}" for k in range(1, self.n + 1)]

    def __enter__(self) -> "FioServers":
        # The port was free on 127.0.0.1 when chosen; another program on the host may take it (or
        # hold it on 127.0.0.k) before fio binds it. A server that exits at once then gets a new
        # port, up to START_ATTEMPTS times, unless the caller fixed the port.
        for attempt in range(1, START_ATTEMPTS + 1):
            try:
                self._start()
                return self
            except _ServerExited:
                self.stop()
                if self._chosen_port is not None or attempt == START_ATTEMPTS:
                    raise RuntimeError(f"fio --server on port {self.port} exited at start "
                                       f"({attempt} attempt(s)); is the port in use?") from None
                self.port = free_port()
            except BaseException:
                self.stop()
                raise
        return self

    def _start(self) -> None:
        for k, host in enumerate(self.hosts, start=1):
            cwd = self.work_dir / f"guest-{k:02d}"
            cwd.mkdir(parents=True, exist_ok=True)
            self.procs.append(subprocess.Popen(
                [self.fio, f"--server=ip:{host},{self.port}"], cwd=cwd,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            ))
        for host in self.hosts:
            self._wait_listening(host)
        # Something answered on every host:port; if another program holds the port, that was it,
        # and fio ("bind: Address already in use") exits within milliseconds.
        time.sleep(_SETTLE_S)
        if any(p.poll() is not None for p in self.procs):
            raise _ServerExited

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.procs = []

    def host_list(self, guests: int, path: Path) -> Path:
        """Write the fio ``--client`` host list file for the first ``guests`` servers."""
        path.write_text("".join(f"{h},{self.port}\n" for h in self.hosts[:guests]))
        return path

    def _wait_listening(self, host: str) -> None:
        deadline = time.monotonic() + _SERVER_START_TIMEOUT_S
        while True:
            if any(p.poll() is not None for p in self.procs):
                raise _ServerExited
            try:
                with socket.create_connection((host, self.port), timeout=0.5):
                    return
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"fio --server on {host}:{self.port} did not start") from None
                time.sleep(0.05)


class _ServerExited(Exception):
    """A fio server process ended while starting (typically: its port was taken)."""


def run_plan(plan: kit.Plan, out_dir: Path, *, mode_settings: dict | None = None,
             fio: str = "fio", progress: bool | None = None) -> list[Path]:
    """Write the kit for ``plan`` into out_dir, then run every manifest row with local fio servers.

    ``mode_settings`` maps a mode to Plan fields that differ in that mode (default
    ``STAND_IN_MODES``). A mode without overrides runs the kit's job file in out_dir/jobs exactly
    as written; a mode with overrides gets its own job in a scratch folder. ``plan.filename``
    should be relative (each server resolves it in its own folder). Returns the fio output files.
    """
    from analysis.progress import bar

    mode_settings = STAND_IN_MODES if mode_settings is None else mode_settings
    out_dir = Path(out_dir)
    kit.write(plan, out_dir, command="analysis.collect.loopback.run_plan", allow_raw=True)
    rows = plan.conditions()
    written = []
    # tmpfs when there is one, so the guests' reads measure CPUs and memory rather than a disk
    shm = Path("/dev/shm")
    with tempfile.TemporaryDirectory(prefix="pgrant-lab-loopback-", dir=shm if shm.is_dir() else None) as scratch:
        scratch = Path(scratch)
        env = {**os.environ, kit.DEVICE_VARIABLE: GUEST_FILE}
        with FioServers(max(plan.guests), scratch / "guests", fio=fio) as servers:
            for row in bar(rows, desc="fio runs", unit="run", progress=progress):
                overrides = mode_settings.get(row["mode"], {})
                job = out_dir / kit.job_path(plan.rw, row["bs"])
                if overrides:
                    job = scratch / f"{row['mode']}-{row['bs']}.fio"
                    job.write_text(kit.job_text(replace(plan, **overrides), row["bs"]))
                hosts = servers.host_list(row["guests"], scratch / "hosts.txt")
                # absolute: the fio servers open --output too, relative to their own working folders
                result = (out_dir / row["file"]).resolve()
                result.parent.mkdir(parents=True, exist_ok=True)
                subprocess.run(
                    [fio, f"--client={hosts}", "--output-format=json", f"--output={result}", str(job.resolve())],
                    check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                )
                written.append(result)
    return written


DEMO_PLAN = kit.Plan(
    guests=[1, 2, 3, 4, 5, 6], dom0_vcpus=[os.cpu_count() or 1], modes=list(kit.MODES), bs=["4k", "64k"],
    runs=2, rw="randread", iodepth=1, ioengine="psync", direct=False, runtime_s=1, ramp_s=0,
    size="4m", filename=GUEST_FILE,
)


def build_demo(out_dir: Path, *, plan: kit.Plan = DEMO_PLAN) -> Path:
    """Measure the bundled example experiment into out_dir (replacing it) and write its provenance."""
    out_dir = Path(out_dir)
    outdir.claim(out_dir, command=DEMO_COMMAND, option="OUTDIR", allow_raw=True, recognise=_earlier_demo)
    if out_dir.exists():
        shutil.rmtree(out_dir)
    started = datetime.now(timezone.utc).isoformat(timespec="seconds")
    run_plan(plan, out_dir)
    for name in ("site.env", "runbook.sh", "kit.json"):  # Xen-host parts of the kit: not used here
        (out_dir / name).unlink()
    (out_dir / "manifest.json").write_text(json.dumps({
        "title": STAND_IN_TITLE,
        "what": STAND_IN_NOTE,
        "command": "python -m analysis.collect.loopback data/raw/measured-here/fio-experiment (make data-experiment)",
        "date_utc": started,
        "machine": machine.facts(),
        "stand_in_modes": {m: {"ioengine": replace(plan, **s).ioengine, "direct": replace(plan, **s).direct}
                           for m, s in STAND_IN_MODES.items()},
        "plan": {k: v for k, v in vars(plan).items()},
    }, indent=2) + "\n")
    (out_dir / "README.md").write_text(_DEMO_README.format(note=STAND_IN_NOTE))
    (out_dir / outdir.MARKER).unlink(missing_ok=True)  # the kit's: this folder is the demo's now
    outdir.write_marker(out_dir, command=DEMO_COMMAND)
    return out_dir


DEMO_COMMAND = "python -m analysis.collect.loopback"


def _earlier_demo(out_dir: Path) -> bool:
    """An example experiment written before analysis.outdir's marker existed: manifest.json's title."""
    try:
        return json.loads((out_dir / "manifest.json").read_text()).get("title") == STAND_IN_TITLE
    except (OSError, ValueError, AttributeError):
        return False


_DEMO_README = """# Example experiment folder: fio client/server on loopback (measured here, not Xen)

{note}.

This folder is an experiment in the layout `pgrant-lab report --data` reads (`manifest.csv` plus
the fio JSON files it names); `make report` uses it for notebooks 09 and 10 when no `--data` is
given. It was written by `make data-experiment` (`python -m analysis.collect.loopback`), which writes the
kit's job files (`jobs/`), starts one `fio --server` per "guest" on 127.0.0.1..127.0.0.6, and for
each manifest row runs `fio --client=<first N servers> --output-format=json`. Each guest reads its
own 4 MiB file for 1 s per run. `manifest.json` records the command, date, machine and fio version.

The numbers show how this 2-core machine shares its CPUs between N fio processes; they say nothing
about Xen, grant tables or TLB shootdowns.
"""


if __name__ == "__main__":  # pragma: no cover
    if len(sys.argv) != 2:
        sys.exit("usage: python -m analysis.collect.loopback OUT_DIR")
    try:
        print(f"wrote {build_demo(Path(sys.argv[1]))}")
    except UsageError as err:
        sys.exit(f"python -m analysis.collect.loopback: {err}")
