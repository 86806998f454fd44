"""One report page: an executed notebook rendered by nbconvert with our template.

The page gets a real ``<title>``, a navigation bar (all pages, previous, next), a summary box
(question, answer, evidence, data files) and a table of contents of its sections. Equations in
Markdown (``$...$``, ``$$...$$``) are rendered to MathML here (latex2mathml), which browsers
typeset natively, so no page loads MathJax or anything else from the network.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path

from analysis.site import STYLE_CSS, TEMPLATE_NAME, TEMPLATES_DIR
from analysis.site.summary import Summary, collect_runtime, static

SITE_NAME = "pgrant-lab"


@dataclass
class Link:
    href: str
    text: str


@dataclass
class Nav:
    """Where a page sits: the landing page, and the previous and next pages (None at the ends)."""

    index: Link
    previous: Link | None = None
    next: Link | None = None


def latex_to_mathml(tex: str, *, block: bool) -> str:
    """``tex`` as a MathML element; the TeX in a ``<code>`` when latex2mathml cannot read it."""
    from latex2mathml.converter import convert

    try:
        return convert(tex.strip(), display="block" if block else "inline")
    except Exception:  # noqa: BLE001 - any parse failure: show the source, never break the page
        return f'<code class="pgrant-tex">{html.escape(tex)}</code>'


def _exporter():
    from nbconvert import HTMLExporter
    from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath

    class MathMLRenderer(IPythonRenderer):
        """nbconvert's Markdown renderer with equations as MathML instead of MathJax input."""

        def block_math(self, body: str) -> str:
            return latex_to_mathml(body, block=True)

        def inline_math(self, body: str) -> str:
            return latex_to_mathml(body, block=False)

        def latex_environment(self, name: str, body: str) -> str:
            return latex_to_mathml(f"\\begin{{{name}}}{body}\\end{{{name}}}", block=True)

    class PageExporter(HTMLExporter):
        def markdown2html(self, context, source):
            cell = context.get("cell", {})
            renderer = MathMLRenderer(
                escape=False, attachments=cell.get("attachments", {}), embed_images=self.embed_images,
                anchor_link_text=self.anchor_link_text, exclude_anchor_links=self.exclude_anchor_links)
            return MarkdownWithMath(renderer=renderer).render(source)

    # markdown2html is registered as a context filter by HTMLExporter; keep that on the override.
    PageExporter.markdown2html = _contextfilter(PageExporter.markdown2html)
    exporter = PageExporter(template_name=TEMPLATE_NAME, extra_template_basedirs=[str(TEMPLATES_DIR)])
    exporter.exclude_input = True
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    return exporter


def _contextfilter(func):
    from jinja2 import pass_context

    return pass_context(func)


def _header(summary: Summary, nav: Nav) -> str:
    e = html.escape
    links = [f'<a class="pgrant-home" href="{e(nav.index.href)}">{e(nav.index.text)}</a>']
    if nav.previous:
        links.append(f'<a rel="prev" href="{e(nav.previous.href)}">&larr; {e(nav.previous.text)}</a>')
    if nav.next:
        links.append(f'<a rel="next" href="{e(nav.next.href)}">{e(nav.next.text)} &rarr;</a>')
    badges = "".join(f'<span class="pgrant-badge pgrant-ev-{e(k)}">{e(text)}</span>'
                     for k, text in summary.evidence_badges)
    data = ", ".join(f"<code>{e(d)}</code>" for d in summary.data) or "none (computed from constants)"
    rows = [("Question", e(summary.question or "-")), ("Answer", e(summary.answer or "-")),
            ("Evidence", badges or "-"), ("Data", data)]
    if summary.error:
        rows.insert(0, ("This page failed", f'<span class="pgrant-error">{e(summary.error)}</span>'))
    box = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in rows)
    return (f'<nav class="pgrant-nav" aria-label="pages">{" ".join(links)}</nav>'
            f'<section class="pgrant-summary" aria-label="summary"><dl>{box}</dl></section>'
            "<!--pgrant-toc-->")


def _toc(body: str) -> str:
    """A table of contents of the page's level-2 headings (nbconvert gives each an id)."""
    items = []
    for match in re.finditer(r'<h2 id="([^"]+)"[^>]*>(.*?)</h2>', body, re.DOTALL):
        text = re.sub(r"<a class=\"anchor-link\".*?</a>", "", match.group(2), flags=re.DOTALL)
        text = re.sub(r"<[^>]+>", "", text).strip()
        items.append(f'<li><a href="#{match.group(1)}">{text}</a></li>')
    if not items:
        return ""
    return f'<nav class="pgrant-toc" aria-label="sections"><strong>On this page</strong><ul>{"".join(items)}</ul></nav>'


def render(ipynb: Path | None, source: Path, html_path: Path, *, nav: Nav, error: str | None = None) -> Summary:
    """Render ``ipynb`` (the executed notebook; None when execution never started: an empty page
    with the error) to ``html_path``; return the page's summary (static + run time)."""
    import jupytext
    import nbformat

    if ipynb is not None and Path(ipynb).exists():
        nb = nbformat.read(ipynb, as_version=4)
    else:
        nb = nbformat.v4.new_notebook(metadata=jupytext.read(source).metadata)
        nb.cells.append(nbformat.v4.new_markdown_cell(f"# {static(jupytext.read(source), source.stem).title}"))
    summary = collect_runtime(nb, static(nb, Path(source).stem))
    summary.error = error
    nb.metadata["title"] = f"{summary.title} \u00b7 {SITE_NAME}"
    resources = {"pgrant": {"css": STYLE_CSS.read_text(encoding="utf-8"), "header": _header(summary, nav),
                            "footer": ""}}
    body, _ = _exporter().from_notebook_node(nb, resources=resources)
    body = body.replace("<!--pgrant-toc-->", _toc(body), 1)
    Path(html_path).write_text(body, encoding="utf-8")
    return summary


def navigation(stems_titles: list[tuple[str, str]], i: int) -> Nav:
    """The Nav of page ``i`` among (stem, short title) pairs in reading order."""
    def link(j: int) -> Link | None:
        if 0 <= j < len(stems_titles):
            return Link(f"{stems_titles[j][0]}.html", stems_titles[j][1])
        return None

    return Nav(index=Link("index.html", "All pages"), previous=link(i - 1), next=link(i + 1))


def short_title(source: Path) -> str:
    """A page's title for navigation links: its number and topic, cut at the first colon."""
    from analysis.site.summary import from_source

    title = from_source(source).title
    return title.split(":")[0].strip() if ":" in title else title
