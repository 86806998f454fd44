"""Session fixtures that run the real fio for parser tests (imported by test modules that need them)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def shm_dir():
    """A folder on a memory file system for fio's data files, removed after the session."""
    base = "/dev/shm" if Path("/dev/shm").is_dir() else None
    folder = Path(tempfile.mkdtemp(prefix="pgrant-fio-test-", dir=base))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def run_fio(tmp_path_factory, shm_dir):
    """Run fio on a job file text; return the path of its captured stdout (or --output file).

    ``{shm}`` in the job text becomes the memory folder. stdout is captured to the file so that
    fio's notes printed before the JSON land in it, as they do for a user who redirects stdout.
    """
    out_dir = tmp_path_factory.mktemp("fio-out")

    def run(name: str, job: str, *args: str, check: bool = True) -> Path:
        job_file = out_dir / f"{name}.fio"
        job_file.write_text(job.format(shm=shm_dir))
        out = out_dir / f"{name}.out"
        with open(out, "w") as fh:
            proc = subprocess.run(["fio", str(job_file), *args], stdout=fh, stderr=subprocess.PIPE, text=True,
                                  cwd=out_dir, timeout=60)
        if check:
            assert proc.returncode == 0, proc.stderr
        return out

    return run


