"""The landing page ``index.html``: what the suite is, the verdict tally, one line per page
(question, answer, evidence badge), and what it ran on (data folder, date, version, commit)."""

from __future__ import annotations

import datetime as _dt
import html
import subprocess
from dataclasses import dataclass
from pathlib import Path

from analysis.paths import REPO_ROOT
from analysis.site import STYLE_CSS
from analysis.site.summary import Summary

ABOUT = (
    "pgrant-lab explains, measures and predicts the performance of Xen paravirtual block I/O "
    "(blkfront/blkback) with and without <em>persistent grants</em>, starting from the 2012 review thread "
    "&ldquo;[PATCH] Persistent grant maps for xen blk drivers&rdquo;. It turns each claim of the thread into "
    "something computed (ring geometry from the Linux and Xen headers), fitted (scalability and shootdown "
    "models), measured or simulated, and judges it. <strong>No Xen host was used to build it:</strong> "
    "numbers measured here come from an ordinary Linux machine (a KVM guest) and are never Xen's; "
    "simulated ones come from a named model; digitized ones from a cited message."
)
ABOUT_EXPERIMENT = (
    "This report runs pgrant-lab's analysis on <strong>your experiment</strong>: the fio results in the "
    "folder named below, with the conditions its <code>manifest.csv</code> gives. Scaling fits and the "
    "persistent-or-not decision are computed from your runs; where your experiment does not reach, a page "
    "says which bundled data (measured on an ordinary Linux machine, not Xen) it uses instead."
)
# Verdict text (analysis.decide.verdicts.VERDICTS) -> badge colour class.
VERDICT_CLASS = {"holds": "holds", "holds with a caveat": "caveat", "wrong": "wrong",
                 "inconsistent with the model": "inconsistent", "cannot be judged from this data": "unjudged"}
VERDICT_PAGE = "00-verdicts.html"


@dataclass
class Provenance:
    """What a report ran on: ``data`` a name or a path relative to the repository, never absolute."""

    data: str
    date: str
    version: str
    commit: str


def provenance(data_label: str) -> Provenance:
    """The report's provenance now: date (UTC), package version and the repository's git commit."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        pkg = version("pgrant-lab")
    except PackageNotFoundError:
        pkg = "unknown"
    return Provenance(data=data_label, date=_dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                      version=pkg, commit=git_commit(REPO_ROOT))


def git_commit(repo: Path) -> str:
    """The short commit of ``repo``, "+ local changes" when its tree differs; "unknown" without git."""
    try:
        head = subprocess.run(["git", "-C", str(repo), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(repo), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{head} + local changes" if dirty else head


def data_label(data_dir: Path, *, experiment: bool = False) -> str:
    """How the index names the data folder: relative to the repository, or the folder's name."""
    data_dir = Path(data_dir)
    if not experiment:
        try:
            return str(data_dir.resolve().relative_to(REPO_ROOT)) + "/ (bundled with pgrant-lab)"
        except ValueError:
            pass
    return data_dir.name + "/"


def _tally(pages: list[Summary]) -> str:
    for page in pages:
        if page.tally:
            order = list(VERDICT_CLASS)  # holds first, cannot-be-judged last (analysis.decide.verdicts.VERDICTS)
            tally = sorted(page.tally.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order))
            badges = " ".join(
                f'<a href="{VERDICT_PAGE}"><span class="pgrant-badge pgrant-v-{VERDICT_CLASS.get(k, "unjudged")}">'
                f"{html.escape(str(k))}: {int(v)}</span></a>" for k, v in tally)
            total = sum(int(v) for v in page.tally.values())
            return (f'<section class="pgrant-tally"><h2>Verdicts on the thread\'s {total} claims</h2>'
                    f'<p>{badges}</p><p><a href="{VERDICT_PAGE}">Start here: every claim, its number and '
                    "its verdict</a></p></section>")
    return ""


def write(path: Path, pages: list[Summary], prov: Provenance, *, title: str, experiment: bool = False) -> Path:
    """Write the landing page to ``path`` and return it."""
    e = html.escape
    rows = []
    for page in pages:
        badges = "".join(f'<span class="pgrant-badge pgrant-ev-{e(k)}">{e(t)}</span>' for k, t in page.evidence_badges)
        answer = (f'<span class="pgrant-error">failed: {e(page.error)}</span>' if page.error
                  else e(page.answer or "-"))
        rows.append(f'<tr><td><a href="{e(page.href)}">{e(page.title)}</a></td>'
                    f'<td class="pgrant-q">{e(page.question)}</td><td>{answer}</td><td>{badges}</td></tr>')
    failed = [p for p in pages if p.error]
    status = (f'<p class="pgrant-error">{len(failed)} of {len(pages)} pages failed; their rows say why.</p>'
              if failed else "")
    body = (
        f'<h1>{e(title)}</h1><p>{ABOUT_EXPERIMENT if experiment else ABOUT}</p>'
        f'<p class="pgrant-meta">Data: <code>{e(prov.data)}</code> &middot; built {e(prov.date)} &middot; '
        f"pgrant-lab {e(prov.version)}, commit <code>{e(prov.commit)}</code></p>{status}"
        f"{_tally(pages)}<h2>Pages</h2>"
        '<table class="pgrant-pages"><thead><tr><th>page</th><th>question</th><th>answer</th>'
        f'<th>evidence</th></tr></thead><tbody>{"".join(rows)}</tbody></table>'
    )
    path = Path(path)
    path.write_text(
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1.0'>"
        f"<title>{e(title)}</title><style>{STYLE_CSS.read_text(encoding='utf-8')}</style></head>"
        f'<body class="pgrant-landing">{body}</body></html>\n', encoding="utf-8")
    return path
