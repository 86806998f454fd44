"""Hostile input to `pgrant-lab ingest`: mutations of real fio output (issue 17, items 4-6, 10-12).

Every input here is output fio wrote: during this session (tests/fio_session.py: json, json+,
terse and every log kind) or the bundled client/server run in data/raw (fio 3.33 client/server,
read only). Hypothesis mutates it: a key deleted, a value replaced by null, a list, a string, NaN,
Infinity, 1e308, -1 or a 30-digit number, a key repeated with another value, the file cut short,
bytes inserted. The promise checked for every case: exit 0 with every (host, job, direction) row
the input holds (computed here, independently of the parser, from the mutated input) and no value
that wrapped around, or exit 2 with one line on stderr naming the file. Never a traceback (any
exception other than our one-sentence errors fails the test), never a hang (streams and special
files run in a subprocess with a timeout), never a silent drop.

CASES counts the cases tried; test_every_kind_was_tried_and_both_outcomes_seen prints it.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import math
import os
import re
import subprocess
import sys
from collections import Counter
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis import cli, paths
from fio_session import run_fio, shm_dir  # noqa: F401 - session fixtures

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
CLIENT_SERVER = (paths.RAW_DATA_DIR / "measured-here" / "fio-experiment" / "results" / "persistent"
                 / "dom0-vcpus-2" / "guests-03-bs-4k-run-1.json")
INT64_MAX = 2**63 - 1
#: Cases tried per kind, and how they ended (exit 0 / exit 2).
CASES: Counter = Counter()

# Two groups; numjobs=2 gives two entries with one name; randrw gives read and write rows; the
# null engine's job reads only. Small sizes keep fio's run and the files short.
JOBS = """
[global]
ioengine=psync
bs=4k
size=256k
iodepth=1

[mixed]
filename={shm}/hostile-mixed
rw=randrw
numjobs=2

[seq]
filename={shm}/hostile-seq
rw=read
ioengine=null
stonewall
new_group
"""

# Every log kind fio 3.33 writes: bw/iops/lat (lat, clat, slat) per I/O with log_offset and
# log_prio, windowed (log_avg_msec), and a histogram log.
LOG_JOBS = """
[global]
ioengine=psync
bs=4k
size=256k
filename={shm}/hostile-log
rw=randrw

[perio]
write_bw_log=perio
write_iops_log=perio
write_lat_log=perio
log_offset=1
log_prio=1

[plain]
stonewall
write_lat_log=plain

[hist]
stonewall
size=2m
write_hist_log=hist
log_hist_msec=1
"""

def SETTINGS(examples: int):
    """Hypothesis settings: a fixed seed (the same cases in every run, on CI too), ``examples`` cases."""
    return settings(max_examples=examples, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


# ---------------------------------------------------------------------------------------------
# running the command and checking the promise


def ingest(*args) -> tuple[int, str, str]:
    """`pgrant-lab ingest ARGS --workers 1` in this process: (status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        status = cli.main(["ingest", *map(str, args), "--workers", "1"])
    return status, out.getvalue(), err.getvalue()


def refused_in_one_line(status: int, err: str, path: Path) -> None:
    assert status == 2, err
    assert err.count("\n") == 1 and err.startswith("pgrant-lab ingest: "), err
    assert str(path) in err, err
    assert "Traceback" not in err


def check(kind: str, path: Path, expected) -> tuple[int, list[dict]]:
    """Run ingest on ``path``: exit 0 with rows matching ``expected`` (a callable of the rows,
    asserting), or exit 2 in one line; ``expected`` None: the input must be refused."""
    status, out, err = ingest(path)
    CASES[kind, status] += 1
    if status != 0 or expected is None:
        refused_in_one_line(status, err, path)
        return status, []
    rows = list(csv.DictReader(io.StringIO(out)))
    expected(rows)
    return status, rows


def no_wraparound(rows: list[dict], columns) -> None:
    """Counts, sizes and times are whole numbers from 0 to 2**63 - 1; rates and means finite, >= 0."""
    for row in rows:
        for column in columns:
            if row.get(column, "") == "":
                continue
            if "." in row[column] or "e" in row[column] or "n" in row[column]:  # float64: finite, >= 0
                assert math.isfinite(float(row[column])) and float(row[column]) >= 0, (column, row[column])
            else:
                assert 0 <= int(row[column]) <= INT64_MAX, (column, row[column])


SUMMARY_NUMBERS = ("groupid", "error", "io_bytes", "runtime_ms", "ios", "iops", "bw_bytes_s", "lat_mean_ns",
                   "clat_mean_ns", "clat_p50_ns", "clat_p99_ns", "usr_cpu_pct", "sys_cpu_pct", "port")


# ---------------------------------------------------------------------------------------------
# the oracle: which rows a fio JSON document holds, by the rule the tidy table documents


def _count(value):
    """A counter fio writes (whole, 0..2**63-1), else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, float) and not (math.isfinite(value) and value.is_integer()):
        return None
    return int(value) if 0 <= value <= INT64_MAX else None


def expected_json_rows(doc) -> list[tuple] | None:
    """(hostname, jobname, direction) of every row, or None when the document must be refused:
    no job list or an empty one, a job without a string jobname, a direction fio always writes
    that is missing or not an object, a did-I/O count that is not a whole number of 0 or more."""
    if not isinstance(doc, dict):
        return None
    entries = doc.get("client_stats", doc.get("jobs"))
    if not isinstance(entries, list) or not entries:
        return None
    rows = []
    for job in entries:
        if not isinstance(job, dict) or not isinstance(job.get("jobname"), str):
            return None
        host = None if job["jobname"] == "All clients" else job.get("hostname")
        did = []
        for direction in ("read", "write", "trim", "mixed"):
            if direction not in job:
                if direction == "mixed" or "mixed" in job:
                    continue
                return None
            stats = job[direction]
            if not isinstance(stats, dict):
                return None
            counts = [_count(stats[key]) for key in ("total_ios", "io_bytes") if key in stats]
            if any(c is None for c in counts):
                return None
            if any(counts):
                did.append(direction)
        rows += [(host, job["jobname"], d) for d in did or ["none"]]
    return sorted(rows, key=repr)


def json_rows_match(expected: list[tuple]):
    def assert_rows(rows):
        found = sorted((((r["hostname"] or None), r["jobname"], r["direction"]) for r in rows), key=repr)
        assert found == sorted(expected, key=repr), (found, expected)
        no_wraparound(rows, SUMMARY_NUMBERS)
    return assert_rows


def last_document(text: str):
    """The last JSON document of a fio output text as Python's json reads it, or None when it does
    not parse or holds NaN or Infinity (which Python's json accepts and fio never writes)."""
    def refuse(literal):
        raise ValueError(literal)
    decoder, doc, pos = json.JSONDecoder(parse_constant=refuse), None, 0
    # documents one after the other: a "{" starting a line inside a document is not a new one
    while match := re.compile(r"(?:^|\n)\{").search(text, pos):
        try:
            doc, pos = decoder.raw_decode(text, match.end() - 1)
        except (ValueError, RecursionError):
            return None
    return doc


def split_json(path: Path) -> tuple[str, dict]:
    text = path.read_text()
    start = 0 if text.startswith("{") else text.index("\n{") + 1
    return text[:start], json.loads(text[start:])


# ---------------------------------------------------------------------------------------------
# real fio output, written once per session


@pytest.fixture(scope="session")
def summaries(run_fio, tmp_path_factory):
    """name -> (prefix text, document) of fio's json, json+ and client/server output."""
    out = {"json": split_json(run_fio("hostile-json", JOBS, "--output-format=json")),
           "json+": split_json(run_fio("hostile-jsonplus", JOBS, "--output-format=json+")),
           "client/server": split_json(CLIENT_SERVER)}
    assert "client_stats" in out["client/server"][1]
    return out


@pytest.fixture(scope="session")
def terse(run_fio):
    return run_fio("hostile-terse", JOBS, "--output-format=terse").read_text()


@pytest.fixture(scope="session")
def logs(run_fio):
    """name -> text of every log fio wrote for LOG_JOBS (bw, iops, lat, clat, slat, clat_hist)."""
    out_file = run_fio("hostile-logs", LOG_JOBS, "--output-format=json")
    found = {p.name: p.read_text() for p in out_file.parent.glob("*.log")
             if p.name.startswith(("perio_", "plain_", "hist_"))}
    assert {"perio_bw.1.log", "perio_iops.1.log", "perio_lat.1.log", "perio_clat.1.log", "plain_lat.2.log",
            "hist_clat_hist.3.log"} <= set(found), sorted(found)
    assert ", 0x0000" in found["perio_lat.1.log"].splitlines()[0]  # log_prio=1: the prio in hex
    return {name: text for name, text in found.items() if text.strip()}


# ---------------------------------------------------------------------------------------------
# the unmutated files pass with every row


def test_real_output_gives_every_row(summaries, terse, logs, tmp_path):
    for name, (prefix, doc) in summaries.items():
        path = tmp_path / f"{name.replace('/', '-')}.json"
        path.write_text(prefix + json.dumps(doc, indent=1))
        status, rows = check("unmutated", path, json_rows_match(expected_json_rows(doc)))
        assert status == 0 and len(rows) >= 3
    status, rows = check("unmutated", _write(tmp_path, "t.terse", terse), terse_rows_match(terse))
    assert status == 0 and len(rows) == 5  # 2 x (read, write) + 1 read
    for name, text in logs.items():
        status, rows = check("unmutated", _write(tmp_path, name, text), log_rows_match(name, text))
        assert status == 0 and rows


def _write(folder: Path, name: str, text) -> Path:
    path = folder / name
    (path.write_bytes if isinstance(text, bytes) else path.write_text)(text)
    return path


# ---------------------------------------------------------------------------------------------
# json, json+, client/server: structural mutations


VALUES = {
    "null": None, "list": [], "string": "x", "zero": 0, "object": {}, "true": True, "NaN": math.nan,
    "Infinity": math.inf, "1e308": 1e308, "-1": -1, "30 digits": 10**30, "2**63": 2**63, "-0.5": -0.5,
    "400 digits": 10**400,
}


def _paths(doc, depth: int = 4, prefix=()):
    """Every key path into the document (objects and lists), down to ``depth`` levels."""
    if depth == 0:
        return
    items = doc.items() if isinstance(doc, dict) else enumerate(doc) if isinstance(doc, list) else ()
    for key, value in items:
        yield (*prefix, key)
        yield from _paths(value, depth - 1, (*prefix, key))


@pytest.fixture(scope="session")
def json_paths(summaries):
    out = {}
    for name, (_, doc) in summaries.items():
        found = list(_paths(doc, depth=5))
        # json+'s thousands of latency bins would crowd out the fields the table takes
        out[name] = [p for p in found if "bins" not in p[:-1]] + [p for p in found if "bins" in p[:-1]][:50]
    return out


@SETTINGS(1200)
@given(data=st.data(), op=st.sampled_from(["delete", *VALUES]))
def test_json_field_mutations(summaries, json_paths, tmp_path, data, op):
    name = data.draw(st.sampled_from(sorted(summaries)), label="file")
    prefix, doc = summaries[name]
    where = data.draw(st.sampled_from(json_paths[name]), label="path")
    doc = copy.deepcopy(doc)
    parent = doc
    for key in where[:-1]:
        parent = parent[key]
    if op == "delete":
        del parent[where[-1]]
    else:
        parent[where[-1]] = copy.deepcopy(VALUES[op])
    path = _write(tmp_path, "mutated.json", prefix + json.dumps(doc, indent=1))
    expected = expected_json_rows(doc)
    check(f"json {op}", path, None if expected is None else json_rows_match(expected))


_NUMBER_LINE = re.compile(r'^(\s*"[^"]+" : )(-?[0-9][0-9.e+-]*)(,?)$', re.MULTILINE)


@SETTINGS(300)
@given(data=st.data(), op=st.sampled_from(["duplicate key", "truncate", "insert bytes", "delete bytes"]))
def test_json_text_mutations(summaries, tmp_path, data, op):
    name = data.draw(st.sampled_from(sorted(summaries)), label="file")
    prefix, doc = summaries[name]
    text = prefix + json.dumps(doc, indent=1).replace('": ', '" : ')  # fio's spacing
    if op == "duplicate key":
        # a number key written twice with different values (outside options: fio writes those as strings)
        match = data.draw(st.sampled_from(list(_NUMBER_LINE.finditer(text))), label="line")
        again = f"{match.group(1)}{match.group(2)}1,\n"
        text = text[:match.start()] + again + text[match.start():]
        expected = None
    else:
        at = data.draw(st.integers(0, len(text)), label="at")
        if op == "truncate":
            text = text[:at]
        elif op == "insert bytes":
            text = text[:at] + data.draw(st.text(max_size=8), label="inserted") + text[at:]
        else:
            text = text[:at] + text[at + data.draw(st.integers(1, 8), label="deleted"):]
        parsed = last_document(text)
        rows = expected_json_rows(parsed) if parsed is not None else None
        expected = None if rows is None else json_rows_match(rows)
    check(f"json {op}", _write(tmp_path, "mutated.json", text), expected)


# ---------------------------------------------------------------------------------------------
# terse


def expected_terse_rows(text: str) -> list[tuple] | None:
    """(job, direction) of every row of terse v3 text, None when it must be refused."""
    rows, job = [], 0
    for line in text.splitlines():
        if not re.match(r"^\d+;", line):
            if ";" in line:
                return None
            continue
        fields = line.split(";")
        if fields[0] != "3" or len(fields) < 121:
            return None
        did = []
        for direction, at in (("read", 5), ("write", 46)):
            io_kib, iops = fields[at], fields[at + 2]
            if not re.fullmatch(r"[0-9]{1,19}", io_kib) or not re.fullmatch(r"[0-9.]+(e[-+]?[0-9]+)?", iops):
                return None
            if int(io_kib) or float(iops):
                did.append(direction)
        rows += [(job, d) for d in did or ["none"]]
        job += 1
    return rows


def terse_rows_match(text: str):
    expected = expected_terse_rows(text)

    def assert_rows(rows):
        assert expected is not None
        assert sorted((int(r["job"]), r["direction"]) for r in rows) == sorted(expected)
        no_wraparound(rows, SUMMARY_NUMBERS)
    return assert_rows


TOKENS = ["", "-1", "nan", "inf", "1e308", "99999999999999999999", "x", "\uff13", "1_0", " 5", "0x10", "-0"]


@SETTINGS(250)
@given(data=st.data(), op=st.sampled_from(["replace field", "delete field", "duplicate line", "truncate",
                                           "insert bytes"]))
def test_terse_mutations(terse, tmp_path, data, op):
    lines = terse.splitlines(keepends=True)
    records = [i for i, line in enumerate(lines) if line.startswith("3;")]
    i = data.draw(st.sampled_from(records), label="line")
    fields = lines[i].rstrip("\n").split(";")
    if op in ("replace field", "delete field"):
        at = data.draw(st.integers(1, len(fields) - 1), label="field")
        if op == "replace field":
            fields[at] = data.draw(st.sampled_from(TOKENS), label="token")
        else:
            del fields[at]
        lines[i] = ";".join(fields) + "\n"
        text = "".join(lines)
    elif op == "duplicate line":
        text = "".join(lines[:i + 1] + lines[i:])
    else:
        text = "".join(lines)
        at = data.draw(st.integers(0, len(text)), label="at")
        text = text[:at] + (data.draw(st.text(max_size=6), label="inserted") if op == "insert bytes" else "") \
            + (text[at:] if op == "insert bytes" else "")
    expected = expected_terse_rows(text)
    if expected is not None and not expected:
        expected = None  # every record cut away: nothing to read
    check(f"terse {op}", _write(tmp_path, "mutated.terse", text),
          None if expected is None else terse_rows_match(text))


# ---------------------------------------------------------------------------------------------
# logs: bw, iops, lat, clat, slat (with offset and hex prio), and histogram logs


def log_rows_match(name: str, text: str):
    lines = [line for line in text.splitlines() if line.strip()]

    def assert_rows(rows):
        if "_clat_hist." in name:
            # one row per non-empty bin of every line
            assert len(rows) == sum(sum(1 for f in line.split(",")[3:] if int(f)) for line in lines)
            no_wraparound(rows, ("time_ms", "bs_bytes", "count", "bin"))
        else:
            assert len(rows) == len(lines)
            no_wraparound(rows, ("time_ms", "bw_kib_s", "iops", "lat_ns", "clat_ns", "slat_ns", "bs_bytes",
                                 "offset_bytes", "prio"))
    return assert_rows


@SETTINGS(300)
@given(data=st.data(), op=st.sampled_from(["replace field", "delete field", "duplicate line", "truncate",
                                           "insert bytes"]))
def test_log_mutations(logs, tmp_path, data, op):
    name = data.draw(st.sampled_from(sorted(logs)), label="log")
    lines = logs[name].splitlines(keepends=True)
    i = data.draw(st.integers(0, len(lines) - 1), label="line")
    fields = lines[i].rstrip("\n").split(",")
    if op in ("replace field", "delete field"):
        at = data.draw(st.integers(0, len(fields) - 1), label="field")
        if op == "replace field":
            fields[at] = " " + data.draw(st.sampled_from(TOKENS), label="token")
        else:
            del fields[at]
        lines[i] = ",".join(fields) + "\n"
        text = "".join(lines)
    elif op == "duplicate line":
        text = "".join(lines[:i + 1] + lines[i:])
    else:
        text = "".join(lines)
        at = data.draw(st.integers(0, len(text)), label="at")
        text = text[:at] + (data.draw(st.text(max_size=6), label="inserted") + text[at:] if op == "insert bytes"
                            else "")
    check(f"log {op}", _write(tmp_path, name, text), log_rows_match(name, text))


# ---------------------------------------------------------------------------------------------
# the cases the issue lists, one by one


def _mutated(summaries, name, change, tmp_path) -> Path:
    prefix, doc = summaries[name]
    doc = copy.deepcopy(doc)
    change(doc)
    return _write(tmp_path, "case.json", prefix + json.dumps(doc, indent=1))


@pytest.mark.parametrize("value", [None, [], "read", 0], ids=["null", "list", "string", "zero"])
@pytest.mark.parametrize("direction", ["read", "write", "trim"])
def test_a_direction_deleted_or_not_an_object_is_an_error_even_with_one_job(summaries, tmp_path, direction, value):
    def one_job(doc, replace=True):
        doc["jobs"] = doc["jobs"][-1:]  # the read-only job: write and trim did no I/O
        if replace:
            doc["jobs"][0][direction] = value
        else:
            del doc["jobs"][0][direction]
    for replace in (True, False):
        path = _mutated(summaries, "json", lambda doc: one_job(doc, replace), tmp_path)
        status, out, err = ingest(path)
        refused_in_one_line(status, err, path)
        assert f"job 0 (seq), field '{direction}': expected " in err
        assert ("found it missing" in err) != replace


def test_an_empty_job_list_is_an_error(summaries, tmp_path):
    path = _mutated(summaries, "json", lambda doc: doc.update(jobs=[]), tmp_path)
    status, out, err = ingest(path)
    refused_in_one_line(status, err, path)
    assert "field 'jobs': expected at least one job" in err


def test_a_repeated_iops_in_client_server_output_is_an_error(summaries, tmp_path):
    prefix, doc = summaries["client/server"]
    text = prefix + json.dumps(doc, indent=1).replace('": ', '" : ')
    at = text.index('"iops" : ')
    text = text[:at] + '"iops" : 12345.5,\n' + text[at:]
    path = _write(tmp_path, "dup.json", text)
    status, out, err = ingest(path)
    refused_in_one_line(status, err, path)
    assert "key 'iops': expected each key once in a JSON object, found it twice" in err


@pytest.mark.parametrize(("field", "value", "message"), [
    (("read", "io_bytes"), 1e308, r"field 'read\.io_bytes': expected a whole number from 0 to 9223372036854775807, found 1e\+308"),
    (("read", "runtime"), 1e308, r"field 'read\.runtime': expected a whole number from 0"),
    (("read", "total_ios"), 1e19, r"field 'read\.total_ios': expected a whole number from 0"),
    (("groupid",), 1e308, r"field 'groupid': expected a whole number from 0"),
    (("error",), None, r"field 'error': expected a whole number, found null"),
    (("groupid",), "1", r"field 'groupid': expected a whole number, found \"1\""),
    (("error",), -1, r"field 'error': expected a whole number from 0"),
    (("usr_cpu",), "12%", r"field 'usr_cpu': expected a number, found \"12%\""),
    (("job options",), [], r"field 'job options': expected an object of options, found \[\]"),
    (("read", "clat_ns", "percentile"), [1, 2], r"field 'read\.clat_ns\.percentile': expected an object"),
    (("read", "clat_ns", "percentile"), {"high": 3}, r"field 'read\.clat_ns\.percentile': expected percentile levels from 0 to 100"),
    (("read", "iops"), -1, r"field 'read\.iops': expected a value of 0 or more, found -1"),
])
def test_wrong_types_and_wraparound_are_one_sentence(summaries, tmp_path, field, value, message):
    def change(doc):
        parent = next(job for job in doc["jobs"] if job["read"]["total_ios"] > 0)
        for key in field[:-1]:
            parent = parent[key]
        parent[field[-1]] = value
    path = _mutated(summaries, "json", change, tmp_path)
    status, out, err = ingest(path)
    refused_in_one_line(status, err, path)
    assert re.search(r"job \d \(\w+\), " + message, err), err


@pytest.mark.parametrize(("literal", "message"), [
    ("NaN", "expected a finite JSON number as fio writes, found NaN"),
    ("Infinity", "expected a finite JSON number as fio writes, found Infinity"),
    ("-Infinity", "expected a finite JSON number as fio writes, found -Infinity"),
    ("1e999", "field 'read.iops': expected a finite number"),  # json reads it as inf
    ("123456789012345678901234", "field 'read.total_ios': expected a whole "
                                 "number from 0 to 9223372036854775807, found 123456789012345678901234"),
    ("9" * 5000, "expected numbers as fio writes them, found exceeds the limit"),
])
def test_non_finite_and_overlong_numbers_are_refused(summaries, tmp_path, literal, message):
    prefix, doc = summaries["json"]
    key = '"total_ios": ' if "whole" in message else '"iops": '
    text = prefix + json.dumps(doc, indent=1).replace(key, f"{key}{literal}, \"x\": ", 1)
    path = _write(tmp_path, "nan.json", text)
    status, out, err = ingest(path)
    refused_in_one_line(status, err, path)
    assert message in err, err


@pytest.mark.parametrize(("hostname", "port"), [(5, 8765), ("h", "8765"), ("h", 70000), (None, 8765)])
def test_client_host_and_port_of_the_wrong_type(summaries, tmp_path, hostname, port):
    def change(doc):
        doc["client_stats"][0].update(hostname=hostname, port=port)
    path = _mutated(summaries, "client/server", change, tmp_path)
    status, out, err = ingest(path)
    refused_in_one_line(status, err, path)
    assert re.search(r"field '(hostname|port)': expected", err), err


def test_global_options_not_an_object(summaries, tmp_path):
    path = _mutated(summaries, "json", lambda doc: doc.update({"global options": "bs=4k"}), tmp_path)
    status, out, err = ingest(path)
    refused_in_one_line(status, err, path)
    assert "field 'global options': expected an object of options, found \"bs=4k\"" in err


# ---------------------------------------------------------------------------------------------
# streams, special files, large files: a subprocess each, with a timeout (no hang)


def _cli(*args, stdin=None, shell=None, timeout=60):
    command = ["bash", "-c", shell] if shell else [sys.executable, "-m", "analysis.cli", "ingest", *map(str, args)]
    return subprocess.run(command, stdin=stdin, capture_output=True, text=True, timeout=timeout, cwd=ROOT)


def test_streams_are_read_once(summaries, logs, tmp_path):
    prefix, doc = summaries["json"]
    path = _write(tmp_path, "f.json", prefix + json.dumps(doc))
    expected = len(expected_json_rows(doc))
    log = _write(tmp_path, "perio_lat.1.log", logs["perio_lat.1.log"])
    with open(path) as stdin:
        dash = _cli("-", stdin=stdin)
    with open(path) as stdin:
        dev_stdin = _cli("/dev/stdin", stdin=stdin)
    substituted = _cli(shell=f"exec {sys.executable} -m analysis.cli ingest <(cat {path})", timeout=60)
    piped_log = _cli(shell=f"cat {log} | {sys.executable} -m analysis.cli ingest - --metric lat")
    for proc, source in ((dash, "-"), (dev_stdin, "/dev/stdin"), (substituted, "/dev/fd/")):
        assert proc.returncode == 0, proc.stderr
        rows = list(csv.DictReader(io.StringIO(proc.stdout)))
        assert len(rows) == expected and rows[0]["source"].startswith(source)
    assert piped_log.returncode == 0, piped_log.stderr
    assert len(piped_log.stdout.splitlines()) == 1 + len(logs["perio_lat.1.log"].splitlines())


def test_a_log_prio_log_is_read_through_ingest(logs, tmp_path):
    path = _write(tmp_path, "perio_clat.1.log", logs["perio_clat.1.log"])
    status, out, err = ingest(path)
    assert status == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == len(logs["perio_clat.1.log"].splitlines())
    assert {r["prio"] for r in rows} == {"0"} and "offset_bytes" in rows[0]


def test_fifo_device_and_sparse_file_are_refused_without_hanging(tmp_path):
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    sparse = tmp_path / "sparse.json"
    with open(sparse, "wb") as f:
        f.write(b"{")
        f.truncate(1 << 30)  # 1 GiB that holds one byte
    for path, found in ((fifo, "found a FIFO (named pipe)"), (Path("/dev/zero"), "found a character device"),
                        (sparse, "found a NUL byte at byte 1")):
        proc = _cli(path, timeout=60)
        refused_in_one_line(proc.returncode, proc.stderr, path)
        assert found in proc.stderr, proc.stderr
    with open("/dev/zero", "rb") as stdin:
        proc = _cli("-", stdin=stdin)
    refused_in_one_line(proc.returncode, proc.stderr, Path("-"))
    assert "found a NUL byte at byte 0" in proc.stderr


def test_what_is_read_is_capped(tmp_path):
    from analysis.errors import FioFormatError
    from analysis.ingest import source

    path = _write(tmp_path, "long.json", "{" + " " * 99)
    assert source.read_bytes(path, limit=100) == b"{" + b" " * 99
    with pytest.raises(FioFormatError, match=r"long\.json: expected fio output of at most 99 bytes, found a file of "
                                             r"100 bytes$"):
        source.read_bytes(path, limit=99)
    assert source.FIO_MAX_BYTES == 1 << 30


# ---------------------------------------------------------------------------------------------


def test_every_kind_was_tried_and_both_outcomes_seen():
    """Runs last in this module: the mutation tests tried every kind, and neither always refused
    nor always accepted (a parser that refuses everything would pass each case alone)."""
    kinds = {kind.split()[0] for kind, _ in CASES}
    if not {"json", "terse", "log"} <= kinds:
        pytest.skip("run with the mutation tests of this module")
    for family in ("json", "terse", "log"):
        outcomes = {status for (kind, status) in CASES if kind.startswith(family + " ")}
        assert outcomes == {0, 2}, (family, CASES)
    total = sum(CASES.values())
    print(f"\ningest hostile cases tried: {total} ({dict(sorted(CASES.items()))})")
