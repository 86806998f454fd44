"""Write tidy rows (plain dicts) as CSV exactly as ``pandas.DataFrame.to_csv(index=False)`` would.

`pgrant-lab ingest` of fio summaries goes from :func:`analysis.ingest.fio.read_records` to here,
so a process that converts one file never imports numpy or pandas (0.4-0.5 s of start-up). The
format follows pandas' defaults for each dtype of :data:`analysis.ingest.fio.COLUMNS`: a missing
value is an empty field; ``float64`` is ``repr(float(x))`` (``4096.0``, ``1e+20``; NaN empty);
integers are decimal; ``bool`` is ``True``/``False``; strings are quoted only when needed
(csv.QUOTE_MINIMAL, ``"`` doubled) and lines end with ``\\n``. tests/test_ingest_tidycsv.py
checks byte equality with pandas on real fio output.
"""

from __future__ import annotations

import csv
import math


def _float(value) -> str:
    if value is None:
        return ""
    number = float(value)
    return "" if math.isnan(number) else repr(number)


def _int(value) -> str:
    return "" if value is None else str(int(value))


def _bool(value) -> str:
    return "True" if value else "False"


def _string(value) -> str:
    return "" if value is None else str(value)


_FORMAT = {"float64": _float, "int64": _int, "Int64": _int, "bool": _bool, "string": _string}


def write(rows: list[dict], columns: dict[str, str], out) -> int:
    """Write ``rows`` (dicts keyed by ``columns``' names) with a header to the text stream ``out``.

    ``columns`` maps each column to a pandas dtype name (float64, int64, Int64, bool, string).
    Returns the number of rows written.
    """
    formats = [(name, _FORMAT[dtype]) for name, dtype in columns.items()]
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(list(columns))
    for row in rows:
        writer.writerow([fmt(row.get(name)) for name, fmt in formats])
    return len(rows)
