"""What a page answers: question, one-line answer, evidence kinds and data files.

Each notebook states them once, in its jupytext header (the notebook's metadata), as::

    #   pgrant:
    #     question: Where do 11 MB per device come from, and what is it at 64 requests?
    #     answer: 2.75 MiB at ring order 0 (64 requests), ...
    #     evidence: [computed]
    #     data: [raw/digitized/persistent-grants-thread]

Why the header and not a cell: it is readable without executing the notebook (the landing page
still says what a page that failed was for), it is one block per notebook that no code cell
touches, and jupytext keeps it in both the .py and the .ipynb (``notebook_metadata_filter`` in
jupytext.toml). An answer that depends on the data (a user's experiment, the verdict tally) is
stated at run time with :func:`analysis.site.capture.summary`, which overrides the header's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from analysis.site import EVIDENCE
from analysis.site.capture import SUMMARY_MIMETYPE

METADATA_KEY = "pgrant"


@dataclass
class Summary:
    """One page's summary box. ``data`` are paths relative to the data folder (or a name)."""

    stem: str
    title: str
    question: str = ""
    answer: str = ""
    evidence: list[str] = field(default_factory=list)
    data: list[str] = field(default_factory=list)
    tally: dict = field(default_factory=dict)
    error: str | None = None

    @property
    def href(self) -> str:
        return f"{self.stem}.html"

    @property
    def evidence_badges(self) -> list[tuple[str, str]]:
        """(key, text) per evidence kind; an unknown key is shown as written."""
        return [(k, EVIDENCE.get(k, k)) for k in self.evidence]


def title_of(nb, stem: str) -> str:
    """The notebook's first level-1 heading ("01 - fio results: ..."), else its file stem."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            match = re.search(r"^#\s+(.+)$", cell.source, re.MULTILINE)
            if match:
                return match.group(1).strip()
    return stem


def static(nb, stem: str) -> Summary:
    """The summary from the notebook's header (``pgrant`` metadata) and its first heading."""
    meta = dict(nb.metadata.get(METADATA_KEY, {}))
    evidence = meta.get("evidence", [])
    return Summary(stem=stem, title=title_of(nb, stem), question=str(meta.get("question", "")),
                   answer=str(meta.get("answer", "")),
                   evidence=[evidence] if isinstance(evidence, str) else list(evidence),
                   data=[str(d) for d in meta.get("data", [])])


def from_source(source: Path) -> Summary:
    """The static summary of a jupytext notebook ``NN-topic.py``."""
    import jupytext

    return static(jupytext.read(source), Path(source).stem)


def collect_runtime(nb, summary: Summary) -> Summary:
    """Apply the fields the notebook stated at run time (analysis.site.capture.summary), and remove
    those outputs from ``nb`` so nbconvert does not see them."""
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        kept = []
        for output in cell.get("outputs", []):
            fields = output.get("data", {}).get(SUMMARY_MIMETYPE) if output.get("output_type") == "display_data" else None
            if fields is None:
                kept.append(output)
                continue
            for key in ("question", "answer"):
                if fields.get(key):
                    setattr(summary, key, str(fields[key]))
            if fields.get("evidence"):
                summary.evidence = list(fields["evidence"])
            if fields.get("data"):
                summary.data = [str(d) for d in fields["data"]]
            if fields.get("tally"):
                summary.tally = dict(fields["tally"])
        cell["outputs"] = kept
    return summary
