"""`make lab`: JupyterLab starts (as root too) and opens a notebook's .py through jupytext."""

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from analysis.paths import NOTEBOOKS_DIR, REPO_ROOT

JUPYTER = Path(sys.executable).with_name("jupyter")
# Bounded waits (s): the server starts in a few seconds; a hang fails the test instead of CI.
START_TIMEOUT_S = 90
REQUEST_TIMEOUT_S = 30


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_make_lab_passes_allow_root_exactly_when_running_as_root():
    out = subprocess.run(["make", "-s", "-n", "lab"], cwd=REPO_ROOT, capture_output=True, text=True,
                         timeout=60, check=True).stdout.strip().splitlines()[-1]
    assert "jupyter lab" in out and out.endswith("notebooks/")
    assert ("--allow-root" in out) == (os.geteuid() == 0)


@pytest.mark.slow
def test_lab_server_opens_a_jupytext_py_as_a_notebook(tmp_path):
    port, token = _free_port(), secrets.token_hex(16)
    flags = ["--allow-root"] if os.geteuid() == 0 else []
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"), "JUPYTER_CONFIG_DIR": str(tmp_path / "config")}
    server = subprocess.Popen(
        [str(JUPYTER), "lab", *flags, "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         "--port-retries=0", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={NOTEBOOKS_DIR}"],
        cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        url = f"http://127.0.0.1:{port}/api/contents/01-fio-results.py?type=notebook&content=1"
        request = urllib.request.Request(url, headers={"Authorization": f"token {token}"})
        deadline, model = time.monotonic() + START_TIMEOUT_S, None
        while time.monotonic() < deadline and server.poll() is None:
            try:
                with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT_S) as response:
                    model = json.load(response)
                break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.5)
        assert model is not None, f"lab server did not answer: {server.poll()=}"
        assert model["type"] == "notebook" and model["format"] == "json"
        cells = model["content"]["cells"]
        assert cells[0]["cell_type"] == "markdown" and cells[0]["source"].startswith("# 01 ")
        assert any("parameters" in c["metadata"].get("tags", []) for c in cells)
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=30)
        server.stderr.close()
