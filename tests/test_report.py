"""analysis.report executes jupytext notebooks with parameters and renders them to HTML."""

import re
import textwrap
from pathlib import Path

import pytest

from analysis import report

OK = textwrap.dedent(
    """\
    # %% tags=["parameters"]
    data_dir = "unset"

    # %%
    print("DATA=" + data_dir)
    """
)

FAILS = textwrap.dedent(
    """\
    # %% tags=["parameters"]
    x = 1

    # %%
    raise ValueError("deliberate failure")
    """
)


@pytest.mark.slow
def test_build_executes_injects_parameters_and_flags_failures(tmp_path):
    nbs = tmp_path / "nbs"
    nbs.mkdir()
    (nbs / "01-ok.py").write_text(OK)
    (nbs / "02-fails.py").write_text(FAILS)
    (nbs / "helper.py").write_text("not a notebook\n")
    out = tmp_path / "out"

    result = report.build(out, parameters={"data_dir": "/some/where", "unused": 3}, notebooks_dir=nbs, progress=False)

    assert [p.source.name for p in result.pages] == ["01-ok.py", "02-fails.py"]
    ok, failed = result.pages
    assert ok.ok and "DATA=/some/where" in ok.html.read_text()
    assert not failed.ok and "deliberate failure" in failed.error
    assert "deliberate failure" in failed.html.read_text()
    index = result.index.read_text()
    assert '<a href="01-ok.html">' in index and "failed: ValueError: deliberate failure" in index
    assert "1 of 2 pages failed" in index and "This page failed" in failed.html.read_text()


TRANSPORT = textwrap.dedent(
    """\
    # %%
    import json
    from ipykernel.connect import get_connection_info
    info = json.loads(get_connection_info())
    print("TRANSPORT=" + info["transport"], "IP=" + info["ip"])
    """
)


@pytest.mark.slow
def test_the_kernel_talks_over_unix_sockets_in_a_private_folder_removed_afterwards(tmp_path, capfd):
    # Over TCP, a port one kernel freed is soon another's, and a client still reconnecting to it sends
    # heartbeat pings into the new kernel's control channel ("DELIM not in msg_list" on the console).
    (tmp_path / "nb.py").write_text(TRANSPORT)
    out = tmp_path / "nb.ipynb"
    report.execute(tmp_path / "nb.py", out, {}, cwd=tmp_path)
    printed = re.search(r"TRANSPORT=(\S+) IP=(\S+)", out.read_text())
    assert printed, out.read_text()
    transport, ip = printed.groups()
    assert transport == "ipc"
    folder = Path(ip).parent
    assert folder.name.startswith("pgk-") and not folder.exists()
    assert len(ip) + len("-65535") < 108
    captured = capfd.readouterr()
    assert captured.err == ""


@pytest.mark.parametrize(("argv", "message"), [
    (["--out", str(report.RAW_DATA_DIR / "qa-report")],
     f"--out {report.RAW_DATA_DIR / 'qa-report'}: expected a place outside {report.RAW_DATA_DIR} "
     "(raw data is only read), found one inside it"),
    (["--out", str(report.NOTEBOOKS_DIR), "--only", "02"],
     f"--out {report.NOTEBOOKS_DIR}: expected a place outside {report.NOTEBOOKS_DIR} (the committed "
     "notebooks), found one inside it"),
    (["--out", "{tmp}/rep", "--only", "99"],
     "--only 99: expected the start of a notebook name (00-verdicts, 01-fio-results, "),
])
def test_report_refuses_raw_data_or_notebooks_as_out_and_an_only_that_matches_nothing(tmp_path, capsys, argv, message):
    from analysis.cli import main

    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    committed = {p: p.read_bytes() for p in report.NOTEBOOKS_DIR.glob("*.ipynb")}
    assert main(["report", *argv]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith(f"pgrant-lab report: {message}")
    assert not (report.RAW_DATA_DIR / "qa-report").exists() and not (tmp_path / "rep").exists()
    assert {p: p.read_bytes() for p in report.NOTEBOOKS_DIR.glob("*.ipynb")} == committed
