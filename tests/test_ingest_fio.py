"""analysis.ingest.fio on output that fio 3.33 writes during the test session (tiny sizes, memory files).

Every expected value is derived from fio's own job file or from an independent field of the same
output (e.g. histogram counts against total I/Os), never copied from our parser's output.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from analysis.ingest import fio
from analysis.errors import FioFormatError
from fio_session import run_fio, shm_dir  # noqa: F401 - session fixtures

pytestmark = pytest.mark.slow


# Three job entries in two groups: numjobs=2 gives two entries named "mixed"; global options
# (ioengine, bs, size, iodepth) apply where a job does not override them; iodepth=4 with a
# synchronous engine makes fio 3.33 print a note on stdout before the JSON.
JOBS = """
[global]
ioengine=psync
bs=4k
size=1M
iodepth=4
runtime=1

[mixed]
filename={shm}/mixed
rw=randrw
numjobs=2

[seq]
filename={shm}/seq
rw=read
bs=8k
ioengine=null
stonewall
new_group
"""


@pytest.fixture(scope="session")
def jobs_jsonplus(run_fio):
    return run_fio("jobs-jsonplus", JOBS, "--output-format=json+")


@pytest.fixture(scope="session")
def jobs_raw(jobs_jsonplus):
    text = jobs_jsonplus.read_text()
    return json.loads(text[text.index("\n{") + 1:])


# ---------------------------------------------------------------------------------------------
# json and json+


def test_text_before_the_json_is_skipped(jobs_jsonplus):
    assert jobs_jsonplus.read_text().startswith("note: both iodepth >= 1 and synchronous I/O engine")
    assert fio.detect_format(jobs_jsonplus) == "json"
    assert len(fio.read(jobs_jsonplus)) > 0


def test_every_job_entry_is_a_job_numbered_by_position(jobs_jsonplus):
    table = fio.read(jobs_jsonplus)
    jobs = table.drop_duplicates("job")[["job", "jobname", "groupid"]]
    assert jobs["job"].tolist() == [0, 1, 2]
    assert jobs["jobname"].tolist() == ["mixed", "mixed", "seq"]  # numjobs=2: one name, two jobs
    assert jobs["groupid"].tolist() == [0, 0, 1]  # stonewall + new_group start group 1


def test_randrw_gives_read_and_write_rows_and_a_read_job_only_read(jobs_jsonplus):
    table = fio.read(jobs_jsonplus)
    directions = table.groupby("job")["direction"].apply(sorted).to_dict()
    assert directions == {0: ["read", "write"], 1: ["read", "write"], 2: ["read"]}


def test_global_options_apply_unless_the_job_overrides_them(jobs_jsonplus, jobs_raw):
    assert "bs" in jobs_raw["global options"] and "bs" not in jobs_raw["jobs"][0]["job options"]
    table = fio.read(jobs_jsonplus).set_index(["job", "direction"])
    mixed, seq = table.loc[(0, "read")], table.loc[(2, "read")]
    assert (mixed["bs"], mixed["bs_bytes"], mixed["ioengine"], mixed["rw"]) == ("4k", 4096, "psync", "randrw")
    assert (seq["bs"], seq["bs_bytes"], seq["ioengine"], seq["rw"]) == ("8k", 8192, "null", "read")
    assert mixed["numjobs"] == 2 and seq["numjobs"] == 1  # numjobs: job option, else fio's default
    assert mixed["iodepth"] == 4  # as set in [global] (fio caps the effective depth at 1)


def test_units_are_bytes_and_nanoseconds(jobs_jsonplus, jobs_raw):
    table = fio.read(jobs_jsonplus)
    for row in table.itertuples():
        raw = jobs_raw["jobs"][row.job][row.direction]
        assert row.bw_bytes_s == pytest.approx(raw["bw"] * 1024, rel=0.01)  # bw is KiB/s in fio
        assert row.io_bytes == raw["io_kbytes"] * 1024
        assert row.io_bytes == row.ios * row.bs_bytes  # every I/O moved one block
        assert row.runtime_ms == raw["runtime"]
        assert raw["clat_ns"]["min"] <= row.clat_p50_ns <= row.clat_p90_ns <= row.clat_p99_ns <= row.clat_p99_9_ns
        assert row.lat_mean_ns >= row.clat_mean_ns > 0
        assert (row.usr_cpu_pct, row.sys_cpu_pct) == (jobs_raw["jobs"][row.job]["usr_cpu"], jobs_raw["jobs"][row.job]["sys_cpu"])


def test_schema_has_every_column_with_stable_dtypes(jobs_jsonplus, tmp_path):
    table = fio.read(jobs_jsonplus)
    assert list(table.columns) == list(fio.COLUMNS)
    assert {c: str(t) for c, t in table.dtypes.items()} == {c: str(pd.Series([], dtype=t).dtype) for c, t in fio.COLUMNS.items()}
    assert (table["source"] == str(jobs_jsonplus)).all()
    assert not table["is_aggregate"].any() and table["hostname"].isna().all()


def test_histogram_counts_add_up_to_the_completed_ios(jobs_jsonplus, jobs_raw):
    hist = fio.read_histogram(jobs_jsonplus)
    assert list(hist.columns) == list(fio.HISTOGRAM_COLUMNS)
    summary = fio.read(jobs_jsonplus).set_index(["job", "direction"])["ios"]
    per_job = hist.groupby(["job", "direction"])["count"].sum()
    assert per_job.to_dict() == summary.to_dict()
    for (job, direction), bins in hist.groupby(["job", "direction"]):
        clat = jobs_raw["jobs"][job][direction]["clat_ns"]
        # keys are representative values of fio's bins: within ~1/64 of the recorded extremes
        assert bins["bin_ns"].min() >= clat["min"] * (1 - 1 / 64) - 1
        assert bins["bin_ns"].max() <= clat["max"] * (1 + 1 / 64) + 1


def test_histogram_of_plain_json_says_json_plus_is_needed(run_fio):
    plain = run_fio("plain", JOBS, "--output-format=json")
    with pytest.raises(FioFormatError, match=r"plain\.out: field 'clat_ns.bins': expected fio json\+ output"):
        fio.read_histogram(plain)


def test_json_followed_by_normal_text(run_fio):
    out = run_fio("json-normal", JOBS, "--output-format=json,normal")
    assert "Run status group 0 (all jobs)" in out.read_text()
    table = fio.read(out)
    assert table.groupby("job")["direction"].apply(sorted).to_dict() == {
        0: ["read", "write"], 1: ["read", "write"], 2: ["read"]}


def test_group_reporting_gives_one_entry_per_group(run_fio):
    out = run_fio("grouped", JOBS.replace("[global]", "[global]\ngroup_reporting"), "--output-format=json")
    table = fio.read(out)
    assert table.drop_duplicates("job")[["job", "jobname", "groupid"]].values.tolist() == [[0, "mixed", 0], [1, "seq", 1]]
    assert table.loc[table["jobname"] == "mixed", "numjobs"].eq(2).all()


STATUS_JOB = """
[spin]
ioengine=psync
rw=randread
size=1M
filename={shm}/spin
time_based
runtime=1200ms
"""


@pytest.fixture(scope="session")
def status_json(run_fio):
    return run_fio("status", STATUS_JOB, "--output-format=json", "--status-interval=300ms")


def test_status_interval_read_returns_the_final_report(status_json):
    documents = len(re.findall(r"^\{", status_json.read_text(), re.M))
    assert documents >= 3
    snaps = fio.read(status_json, snapshots=True)
    assert sorted(snaps["snapshot"].unique()) == list(range(documents))
    assert snaps["ios"].is_monotonic_increasing  # cumulative reports
    final = fio.read(status_json)
    assert "snapshot" not in final.columns
    last = snaps[snaps["snapshot"] == documents - 1].drop(columns="snapshot").reset_index(drop=True)
    pd.testing.assert_frame_equal(final, last)


def test_a_cut_off_final_report_is_an_error_not_the_previous_snapshot(status_json, tmp_path):
    text = status_json.read_text()
    cut = tmp_path / "cut.json"
    cut.write_text(text[: text.rindex("\n{") + 200])
    line = text[: text.rindex("\n{") + 1].count("\n") + 1
    with pytest.raises(FioFormatError, match=rf"cut\.json: the JSON document starting at line {line}: "
                                             r"expected complete JSON, found the file ends before the document does \(truncated\)"):
        fio.read(cut)


def test_unified_rw_reporting_mixed(run_fio):
    out = run_fio("unified", JOBS.replace("[global]", "[global]\nunified_rw_reporting=mixed"), "--output-format=json")
    table = fio.read(out)
    assert set(table["direction"]) == {"mixed"}
    assert table["job"].tolist() == [0, 1, 2]
    assert (table["bs_bytes"] == [4096, 4096, 8192]).all()


def test_clat_percentiles_off_gives_nan_percentiles(run_fio):
    out = run_fio("nopct", JOBS.replace("[global]", "[global]\nclat_percentiles=0"), "--output-format=json")
    assert '"percentile"' not in out.read_text()
    table = fio.read(out)
    for column in ("clat_p50_ns", "clat_p90_ns", "clat_p99_ns", "clat_p99_9_ns"):
        assert table[column].isna().all()
    assert (table["clat_mean_ns"] > 0).all()


FAILING_JOBS = """
[ok]
ioengine=psync
rw=read
size=1M
filename={shm}/ok

[noio]
ioengine=psync
rw=write
size=1M
filename=/proc/version
"""


def test_a_job_without_io_keeps_one_row_with_its_error(run_fio):
    out = run_fio("failing", FAILING_JOBS, "--output-format=json", check=False)
    raw = json.loads(out.read_text()[out.read_text().index("{"):])
    error = raw["jobs"][1]["error"]
    assert error != 0
    table = fio.read(out)
    assert table["jobname"].tolist() == ["ok", "noio"]
    noio = table.iloc[1]
    assert (noio["direction"], noio["ios"], noio["io_bytes"], noio["iops"], noio["error"]) == ("none", 0, 0, 0.0, error)
    assert table.iloc[0]["error"] == 0 and table.iloc[0]["ios"] > 0


def test_fio_defaults_match_fio_cmdhelp():
    for option, default in fio.OPTION_DEFAULTS.items():
        help_text = subprocess.run(["fio", f"--cmdhelp={option}"], capture_output=True, text=True).stdout
        assert re.search(rf"^\s*default: {re.escape(default)}$", help_text, re.M), (option, help_text)


# ---------------------------------------------------------------------------------------------
# client/server


@pytest.fixture(scope="session")
def fio_servers(tmp_path_factory):
    """Two real fio servers on loopback addresses 127.0.0.1 and 127.0.0.2 (the loopback
    experiment's servers: a port another program holds is replaced), stopped at the end."""
    from analysis.collect.loopback import FioServers

    with FioServers(2, tmp_path_factory.mktemp("fio-servers")) as servers:
        yield [(host, servers.port) for host in servers.hosts]


CLIENT_JOB = """
[global]
ioengine=psync
size=1M
bs={bs}

[{name}]
filename={shm}/{name}
rw={rw}
"""


@pytest.fixture(scope="session")
def client_json(fio_servers, tmp_path_factory, shm_dir):
    folder = tmp_path_factory.mktemp("fio-client")
    args = []
    for (host, port), (name, rw, bs) in zip(fio_servers, [("guest1", "randread", "4k"), ("guest2", "write", "8k")]):
        job = folder / f"{name}.fio"
        job.write_text(CLIENT_JOB.format(name=name, rw=rw, bs=bs, shm=shm_dir))
        args += [f"--client=ip:{host},{port}", str(job)]
    out = folder / "clients.json"
    proc = subprocess.run(["fio", *args, "--output-format=json+", f"--output={out}"], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    return out


def test_client_rows_carry_host_and_port_and_the_aggregate_is_flagged(client_json, fio_servers):
    raw = json.loads(client_json.read_text())
    assert "client_stats" in raw and "jobs" not in raw
    table = fio.read(client_json)
    hosts = table[~table["is_aggregate"]]
    got = sorted(zip(hosts["hostname"], hosts["port"], hosts["jobname"], hosts["direction"], hosts["rw"]))
    (h1, p1), (h2, p2) = fio_servers
    assert got == [(h1, p1, "guest1", "read", "randread"), (h2, p2, "guest2", "write", "write")]
    # fio merges both clients' [global] sections into one object: the shared ioengine is kept,
    # the bs they disagree on (4k vs 8k) cannot be attributed to a host and is unknown
    assert '"bs" : "4k"' in client_json.read_text() and '"bs" : "8k"' in client_json.read_text()
    assert hosts["ioengine"].eq("psync").all() and hosts["bs"].isna().all()
    assert (hosts["job"] == 0).all()  # first job in each host's file
    aggregate = table[table["is_aggregate"]]
    assert set(aggregate["jobname"]) == {"All clients"}
    assert aggregate["hostname"].isna().all() and aggregate["rw"].isna().all()
    # nothing counted twice: per-host rows alone add up to the aggregate
    for direction, agg in aggregate.set_index("direction").iterrows():
        assert hosts.loc[hosts["direction"] == direction, "ios"].sum() == agg["ios"]


def test_client_histogram_rows_carry_host(client_json, fio_servers):
    hist = fio.read_histogram(client_json)
    per_host = hist[~hist["is_aggregate"]].groupby(["hostname", "direction"])["count"].sum()
    table = fio.read(client_json)
    expected = table[~table["is_aggregate"]].set_index(["hostname", "direction"])["ios"]
    assert per_host.to_dict() == expected.to_dict()


# ---------------------------------------------------------------------------------------------
# terse


@pytest.fixture(scope="session")
def terse_v3(run_fio):
    return run_fio("terse3", JOBS, "--output-format=terse")


def test_terse_v3_fields_by_position(terse_v3, run_fio):
    assert fio.detect_format(terse_v3) == "terse"
    table = fio.read(terse_v3)
    assert table.drop_duplicates("job")["jobname"].tolist() == ["mixed", "mixed", "seq"]
    assert table.groupby("job")["direction"].apply(sorted).to_dict() == {
        0: ["read", "write"], 1: ["read", "write"], 2: ["read"]}
    assert table["groupid"].tolist() == [0, 0, 0, 0, 1]
    assert table["fio_version"].eq(subprocess.run(["fio", "--version"], capture_output=True, text=True).stdout.strip()).all()
    # 1 MiB per job at 4k (mixed: split over read and write) and 8k: io_bytes are whole blocks
    assert table.groupby("job")["io_bytes"].sum().tolist() == [1 << 20] * 3
    for row in table.itertuples():
        assert row.lat_mean_ns >= row.clat_mean_ns > 0
        assert row.bw_bytes_s == pytest.approx(row.io_bytes / (row.runtime_ms / 1000), rel=0.5) if row.runtime_ms else True
        assert row.clat_p50_ns <= row.clat_p99_ns
        assert 0 <= row.usr_cpu_pct <= 100 and 0 <= row.sys_cpu_pct <= 100
    assert table[["rw", "bs", "ioengine"]].isna().all().all()  # terse does not carry options


@pytest.mark.parametrize("version", ["2", "4"])
def test_other_terse_versions_are_rejected(run_fio, version):
    out = run_fio(f"terse{version}", JOBS, "--output-format=terse", f"--terse-version={version}")
    line = next(n for n, text in enumerate(out.read_text().splitlines(), start=1) if text.startswith(f"{version};"))
    with pytest.raises(FioFormatError, match=rf"terse{version}\.out: line {line}, field 1 \(terse version\): "
                                             rf"expected 3 \(fio --terse-version=3, the default\), found {version}$"):
        fio.read(out)


def test_terse_line_with_missing_fields(terse_v3, tmp_path):
    lines = terse_v3.read_text().splitlines()
    number = next(n for n, text in enumerate(lines) if text.startswith("3;"))
    lines[number] = ";".join(lines[number].split(";")[:100])
    bad = tmp_path / "short.terse"
    bad.write_text("\n".join(lines) + "\n")
    with pytest.raises(FioFormatError, match=rf"short\.terse: line {number + 1}: expected 121 terse v3 fields "
                                             r"\(plus 9 per disk\), found 100$"):
        fio.read(bad)


def test_terse_field_that_is_not_a_number(terse_v3, tmp_path):
    lines = terse_v3.read_text().splitlines()
    number = next(n for n, text in enumerate(lines) if text.startswith("3;"))
    fields = lines[number].split(";")
    fields[7] = "fast"
    lines[number] = ";".join(fields)
    bad = tmp_path / "word.terse"
    bad.write_text("\n".join(lines) + "\n")
    with pytest.raises(FioFormatError, match=rf"word\.terse: line {number + 1}, field 8 \(read IOPS\): "
                                             r"expected a finite number of 0 or more, found 'fast'$"):
        fio.read(bad)


# ---------------------------------------------------------------------------------------------
# format detection and bad input


LOG_JOB = """
[logged]
ioengine=psync
rw=randread
size=1M
filename={shm}/logged
time_based
runtime=200ms
write_bw_log=logged
write_lat_log=logged
write_hist_log=logged
log_hist_msec=50
"""


def test_detect_format_on_fio_logs(run_fio):
    out = run_fio("logs", LOG_JOB, "--output-format=json")
    folder = out.parent
    assert fio.detect_format(folder / "logged_bw.1.log") == "log"
    assert fio.detect_format(folder / "logged_clat.1.log") == "log"
    assert (folder / "logged_slat.1.log").stat().st_size == 0  # psync: fio writes an empty slat log
    assert fio.detect_format(folder / "logged_slat.1.log") == "log"
    assert fio.detect_format(folder / "logged_clat_hist.1.log") == "hist_log"
    with pytest.raises(FioFormatError, match=r"logged_bw\.1\.log: expected a fio summary \(json or terse\), "
                                             r"found a fio log file; read it with analysis\.ingest\.fiolog\.read_log$"):
        fio.read(folder / "logged_bw.1.log")


def test_missing_file(tmp_path):
    with pytest.raises(FioFormatError, match=r"nope\.json: expected a fio output file, found no such file$"):
        fio.read(tmp_path / "nope.json")


def test_normal_output_has_no_json_object(run_fio):
    out = run_fio("normal", JOBS, "--output-format=normal")
    with pytest.raises(FioFormatError, match=r"normal\.out: expected fio output \(a JSON object, terse v3 lines or "
                                             r"comma-separated log lines\), found first line 'mixed: \(g=0\): rw=randrw"):
        fio.read(out)


def test_truncated_json(jobs_jsonplus, tmp_path):
    text = jobs_jsonplus.read_text()
    cut = tmp_path / "cut.json"
    cut.write_text(text[: len(text) // 2])
    line = text[: text.index("\n{") + 1].count("\n") + 1
    with pytest.raises(FioFormatError, match=rf"cut\.json: the JSON document starting at line {line}: expected "
                                             r"complete JSON, found the file ends before the document does \(truncated\)$"):
        fio.read(cut)


def test_corrupted_json_names_line_and_column(jobs_jsonplus, tmp_path):
    original = jobs_jsonplus.read_text()
    text = original.replace('"jobname" : "mixed",', '"jobname" : "mixed"', 1)  # drop one comma
    bad = tmp_path / "bad.json"
    bad.write_text(text)
    start = text[: text.index("\n{") + 1].count("\n") + 1
    line = text[: text.index('"jobname" : "mixed"')].count("\n") + 2  # the parser stops on the next line
    with pytest.raises(FioFormatError, match=rf"bad\.json: the JSON document starting at line {start}: expected "
                                             rf"complete JSON, found expecting ',' delimiter at line {line} column \d+$"):
        fio.read(bad)


def test_json_that_is_not_fio_output(tmp_path):
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"name": "pgrant-lab", "version": 1}, indent=1))
    with pytest.raises(FioFormatError, match=r"other\.json: JSON document 1, field 'jobs': expected fio output with a "
                                             r"'jobs' or 'client_stats' list, found keys: name, version$"):
        fio.read(other)


def test_empty_file_that_is_not_a_log(tmp_path):
    empty = tmp_path / "empty.json"
    empty.write_text("")
    with pytest.raises(FioFormatError, match=r"empty\.json: expected fio output \(json, terse or a log\), found an empty file$"):
        fio.detect_format(empty)


def test_read_many_stacks_files_with_their_source(jobs_jsonplus, terse_v3):
    table = fio.read_many([jobs_jsonplus, terse_v3])
    assert table["source"].unique().tolist() == [str(jobs_jsonplus), str(terse_v3)]
    assert len(table) == len(fio.read(jobs_jsonplus)) + len(fio.read(terse_v3))
    assert list(table.columns) == list(fio.COLUMNS)
    assert table["ios"].dtype == "Int64" and table["rw"].dtype == "string"


@pytest.mark.parametrize(("field", "value", "message"), [
    (("iops",), "fast", r"field 'read\.iops': expected a number, found \"fast\"$"),
    (("clat_ns", "mean"), None, r"field 'read\.clat_ns\.mean': expected a number, found null$"),
    (("clat_ns",), [], r"field 'read\.clat_ns\.mean': expected fio >= 3\.0 JSON with 'iops', .* found it missing$"),
    (("io_bytes",), True, r"field 'read\.io_bytes': expected a whole number, found true$"),
])
def test_a_field_of_the_wrong_type_names_job_field_and_value(jobs_raw, tmp_path, field, value, message):
    doc = json.loads(json.dumps(jobs_raw))  # real fio output, one field corrupted
    job = next(j for j in doc["jobs"] if j["read"]["total_ios"] > 0)
    parent = job["read"]
    for key in field[:-1]:
        parent = parent[key]
    parent[field[-1]] = value
    bad = tmp_path / "typed.json"
    bad.write_text(json.dumps(doc, indent=1))
    number = doc["jobs"].index(job)
    with pytest.raises(FioFormatError, match=rf"typed\.json: job {number} \({job['jobname']}\), " + message):
        fio.read(bad)


@pytest.mark.parametrize(("field", "value", "message"), [
    (("clat_ns", "mean"), -12.5, r"field 'read\.clat_ns\.mean': expected a value of 0 or more, found -12\.5$"),
    (("lat_ns", "mean"), -1, r"field 'read\.lat_ns\.mean': expected a value of 0 or more, found -1$"),
    (("clat_ns", "percentile", "99.000000"), -3, r"field 'read\.clat_ns\.percentile\[99\]': expected a value of 0 or "
                                                 r"more, found -3$"),
    (("iops",), -5.0, r"field 'read\.iops': expected a value of 0 or more, found -5$"),
    (("runtime",), 0, r"field 'read\.runtime': expected a runtime above 0 ms for a direction that did I/O "
                      r"\(io_bytes=\d+\), found 0$"),
])
def test_implausible_values_name_job_field_and_value(jobs_raw, tmp_path, field, value, message):
    doc = json.loads(json.dumps(jobs_raw))  # real fio output, one value made implausible
    job = next(j for j in doc["jobs"] if j["read"]["total_ios"] > 0)
    parent = job["read"]
    for key in field[:-1]:
        parent = parent[key]
    parent[field[-1]] = value
    bad = tmp_path / "implausible.json"
    bad.write_text(json.dumps(doc, indent=1))
    number = doc["jobs"].index(job)
    with pytest.raises(FioFormatError, match=rf"implausible\.json: job {number} \({job['jobname']}\), " + message):
        fio.read(bad)


def test_version_3_json_without_ns_keys_is_refused(jobs_raw, tmp_path):
    doc = json.loads(json.dumps(jobs_raw))  # real fio 3.x output with the fio 2.x key names
    for job in doc["jobs"]:
        for direction in ("read", "write", "trim"):
            job[direction]["clat"] = job[direction].pop("clat_ns")
            job[direction]["lat"] = job[direction].pop("lat_ns")
    bad = tmp_path / "renamed.json"
    bad.write_text(json.dumps(doc))
    with pytest.raises(FioFormatError, match=r"field 'read\.lat_ns\.mean': expected fio >= 3\.0 JSON .* found it missing$"):
        fio.read(bad)
