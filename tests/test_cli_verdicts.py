"""Issue 13, item 9: `pgrant-lab verdicts [--json]` and reports/verdicts.csv."""

import csv
import json
from pathlib import Path

from analysis.cli import main
from analysis.decide.export import COLUMNS
from analysis.ingest.thread import load_thread_claims

ROOT = Path(__file__).resolve().parents[1]


def test_verdicts_json_lists_every_claim_with_its_number_and_verdict(tmp_path, capsys):
    out = tmp_path / "reports" / "verdicts.csv"
    assert main(["verdicts", "--json", "--csv", str(out)]) == 0
    records = json.loads(capsys.readouterr().out)
    claims = load_thread_claims(ROOT / "data")
    assert [r["claim_id"] for r in records] == list(claims["claim_id"])
    for r in records:
        assert set(r) == set(COLUMNS)
        assert r["number"] and r["verdict"] and r["notebook"]
    with out.open() as fh:
        rows = list(csv.DictReader(fh))
    assert [r["claim_id"] for r in rows] == [r["claim_id"] for r in records]
    assert [r["verdict"] for r in rows] == [r["verdict"] for r in records]
    assert [p.name for p in out.parent.iterdir()] == ["verdicts.csv"]  # no temporary file left


def test_verdicts_text_prints_one_line_per_claim(tmp_path, capsys):
    assert main(["verdicts", "--csv", str(tmp_path / "v.csv")]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == len(load_thread_claims(ROOT / "data"))
    assert all(": " in line for line in lines)


def test_verdicts_refuses_a_missing_data_folder_and_raw_data(tmp_path, capsys):
    assert main(["verdicts", "--data", str(tmp_path / "none")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--data" in err[0] and "expected a data folder, found none" in err[0]
    assert main(["verdicts", "--csv", str(ROOT / "data" / "raw" / "v.csv")]) == 2
    assert "raw data is only read" in capsys.readouterr().err
