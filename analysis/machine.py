"""Facts about the machine a measured-here data set ran on, and the label its figures carry.

Every ``data/raw/measured-here/<name>/manifest.json`` stores :func:`facts` under ``"machine"``
(written only by the ``make data`` measurement drivers: :mod:`analysis.collect.sweep`,
:mod:`analysis.collect.mechanisms`, :mod:`analysis.collect.loopback`); every figure drawn from such data carries
:func:`label`, which says the numbers are this machine's and not Xen's (:func:`describe` is its
machine-naming part).

The manifests committed before this module existed hold subsets of today's keys (the fio sweep
says ``logical_cores`` where the others say ``cores``; only the mechanisms record ``virtualized``),
so :func:`label` reads whichever is present.
"""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path

_CPUINFO = Path("/proc/cpuinfo")
_MEMINFO = Path("/proc/meminfo")
# sysfs cache topology (Linux Documentation/ABI/testing/sysfs-devices-system-cpu, cache/indexY/size);
# index3 is the L3, the last-level cache, on the x86 machines we measure on.
_LLC_SIZE = Path("/sys/devices/system/cpu/cpu0/cache/index3/size")
SHARED_WITH = "other processes (an engineering sandbox with several agents); numbers are noisy"


def usable_cpus() -> list[int]:
    """The CPUs this process may run on (sched_getaffinity), sorted."""
    return sorted(os.sched_getaffinity(0))


def facts() -> dict:
    """This machine, for a manifest: read from /proc/cpuinfo, /proc/meminfo, sysfs, uname, ``fio``.

    Keys: ``cpu_model`` (first "model name" in /proc/cpuinfo), ``cores`` and ``logical_cores``
    (both ``os.cpu_count()``, logical CPUs; two names because committed manifests use both),
    ``usable_cpus`` (affinity mask), ``llc`` (last-level cache size as sysfs prints it, e.g.
    "32768K"), ``mem_mib`` (MemTotal in MiB, None if unreadable), ``kernel`` (uname release),
    ``system``, ``machine`` (uname machine, e.g. x86_64), ``virtualized`` (the CPU reports the
    ``hypervisor`` flag: a VM), ``python``, ``fio`` (``fio --version``, None without fio) and
    ``shared_with`` (what else ran on the machine).
    """
    cpuinfo = _read(_CPUINFO)
    meminfo = _read(_MEMINFO)
    llc = _read(_LLC_SIZE).strip()
    return {
        "cpu_model": _cpu_model(cpuinfo),
        "cores": os.cpu_count(),
        "logical_cores": os.cpu_count(),
        "usable_cpus": usable_cpus(),
        "llc": llc or "unknown",
        "mem_mib": _mem_mib(meminfo),
        "kernel": platform.release(),
        "system": platform.system(),
        "machine": platform.machine(),
        "virtualized": _virtualized(cpuinfo),
        "python": platform.python_version(),
        "fio": _fio_version(),
        "shared_with": SHARED_WITH,
    }


def label(manifest_or_facts: dict) -> str:
    """'measured on <CPU model>, <n> cores, <mem> GiB[, a VM], Linux <kernel> - not Xen'.

    Takes a manifest (with a ``"machine"`` entry) or :func:`facts` itself. Every figure and
    printout drawn from measured-here data carries this label.
    """
    return f"measured on {describe(manifest_or_facts)} - not Xen"


def describe(manifest_or_facts: dict) -> str:
    """The machine in one phrase, '<CPU model>, <n> cores, <mem> GiB[, a VM], Linux <kernel>'.

    The part of :func:`label` that names the machine; parts a committed manifest did not record
    (memory, the VM flag) are said to be unknown or left out.
    """
    m = manifest_or_facts.get("machine", manifest_or_facts)
    if not isinstance(m, dict):  # facts() itself: its "machine" is uname's, a string
        m = manifest_or_facts
    cores = m.get("cores", m.get("logical_cores"))
    mem = f"{m['mem_mib'] / 1024:.0f} GiB" if m.get("mem_mib") else "unknown memory"
    virt = ", a VM" if m.get("virtualized") else ""
    return f"{m['cpu_model']}, {cores} cores, {mem}{virt}, {m.get('system', 'Linux')} {m['kernel']}"


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:  # not Linux, or no such cache level: the fact is unknown, not an error
        return ""


def _cpu_model(cpuinfo: str) -> str:
    return next((line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name")),
                platform.processor() or "unknown")


def _mem_mib(meminfo: str) -> int | None:
    kib = next((int(line.split()[1]) for line in meminfo.splitlines() if line.startswith("MemTotal:")), None)
    return None if kib is None else kib // 1024


def _virtualized(cpuinfo: str) -> bool:
    # x86 Linux lists the CPUID "hypervisor" bit among each processor's flags
    return " hypervisor" in cpuinfo


def _fio_version() -> str | None:
    try:
        return subprocess.run(["fio", "--version"], capture_output=True, text=True).stdout.strip() or None
    except OSError:
        return None
