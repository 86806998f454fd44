"""The rendered report as a reader gets it: landing page, titles, navigation, offline pages, clean
tables, a CSV beside every figure, and (in a real headless browser, network unreachable)
typeset equations and nothing wider than a 1400 px window.

One report is rendered for the whole module (``pgrant-lab report --out TMP``, a few minutes)."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from bs4 import BeautifulSoup

from analysis import report
from analysis.paths import REPO_ROOT

pytestmark = pytest.mark.slow
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
VIEWPORT_PX = 1400
# A cell that shows an undefined or unrounded value: nan, inf, -0, -0.000, anywhere in the cell.
BAD_CELL = re.compile(r"(?<![A-Za-z])(nan|inf)(?![A-Za-z])|(?:^|[\s(\[,])-0(\.0+)?(?![\d.eE])", re.IGNORECASE)
NETWORK = re.compile(r"^\s*(https?:)?//", re.IGNORECASE)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("site") / "report"
    done = subprocess.run([sys.executable, "-m", "analysis.cli", "report", "--out", str(out)],
                          capture_output=True, text=True, timeout=1800, env={**_env(), "CI": "true"})
    return out, done


def _env():
    import os

    return dict(os.environ)


def _pages(out: Path) -> list[Path]:
    return sorted(out.glob("[0-9][0-9]-*.html"))


def _soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def test_report_console_is_quiet_and_names_the_index(site):
    out, done = site
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == f"wrote {out / 'index.html'} ({len(_pages(out))} notebooks)"
    assert "without encryption" not in done.stderr and "KeyboardInterrupt" not in done.stderr
    assert done.stderr.strip() == ""


def test_every_page_and_the_index_have_a_specific_title(site):
    out, _ = site
    titles = {}
    for page in [out / "index.html", *_pages(out)]:
        title = _soup(page).title.get_text(strip=True)
        assert title and title.lower() not in {"notebook", "untitled"}, page.name
        titles[page.name] = title
    assert len(set(titles.values())) == len(titles)
    for page in _pages(out):
        assert titles[page.name].startswith(page.stem[:2]), titles[page.name]


def test_every_link_resolves_and_every_page_links_index_previous_next_and_its_sections(site):
    out, _ = site
    pages = _pages(out)
    assert len(pages) == len(report.notebook_sources())
    for i, page in enumerate([out / "index.html", *pages]):
        soup = _soup(page)
        ids = {tag["id"] for tag in soup.find_all(id=True)}
        for a in soup.find_all("a", href=True):
            href = a["href"]
            if href.startswith("#"):
                assert href[1:] in ids, (page.name, href)
            elif not href.startswith(("http://", "https://", "mailto:")):
                assert (out / href.split("#")[0]).is_file(), (page.name, href)
        if page.name == "index.html":
            linked = {a["href"] for a in soup.find_all("a", href=True)}
            assert {p.name for p in pages} <= linked
            continue
        nav = soup.find("nav", class_="pgrant-nav")
        hrefs = [a["href"] for a in nav.find_all("a")]
        assert "index.html" in hrefs
        assert (pages[i - 2].name in hrefs) == (i > 1) and (i < len(pages)) == (pages[min(i, len(pages) - 1)].name in hrefs)
        box = soup.find("section", class_="pgrant-summary")
        assert box is not None and "Question" in box.get_text() and "Evidence" in box.get_text()
        if len(soup.find_all("h2")) > 1:
            assert soup.find("nav", class_="pgrant-toc").find_all("a")


def test_no_page_loads_anything_from_the_network(site):
    out, _ = site
    for page in [out / "index.html", *_pages(out)]:
        soup = _soup(page)
        for tag, attr in (("script", "src"), ("link", "href"), ("img", "src"), ("iframe", "src")):
            for element in soup.find_all(tag):
                assert not NETWORK.match(element.get(attr, "")), (page.name, str(element)[:200])
        assert not soup.find_all("link", rel="stylesheet", href=True), page.name
        assert "cdn." not in page.read_text(encoding="utf-8").lower(), page.name


def test_no_table_cell_shows_nan_inf_or_minus_zero(site):
    out, _ = site
    for page in _pages(out):
        for cell in _soup(page).find_all(["td", "th"]):
            text = cell.get_text(" ", strip=True)
            assert not BAD_CELL.search(text), (page.name, text)


def test_every_figure_has_its_data_as_a_csv_beside_it(site):
    out, _ = site
    figures = 0
    for page in _pages(out):
        for img in _soup(page).find_all("img"):
            figure = img.find_parent("figure", class_="pgrant-figure")
            assert figure is not None, (page.name, img.get("alt"))
            link = figure.find("a", href=re.compile(r"\.csv$"))
            assert link is not None and (out / link["href"]).is_file(), page.name
            assert link["href"].startswith(page.stem + "-data/")
            figures += 1
        for table in _soup(page).find_all("div", class_="pgrant-table"):
            link = table.find("a", href=re.compile(r"\.csv$"))
            assert link is not None and (out / link["href"]).is_file(), page.name
    assert figures >= len(_pages(out))


def test_no_page_shows_a_table_twice(site):
    # A cell that ends with tables.show(...) once displayed the table and then its return value.
    out, _ = site
    for page in _pages(out):
        shown = [str(t.find("table")) for t in _soup(page).find_all("div", class_="pgrant-table")]
        repeated = [a for a, b in zip(shown, shown[1:]) if a == b]
        assert not repeated, (page.name, repeated[0][:200] if repeated else "")


def test_the_landing_page_says_what_it_is_what_it_ran_on_and_tallies_the_verdicts(site):
    out, _ = site
    soup = _soup(out / "index.html")
    text = soup.get_text(" ", strip=True)
    assert "No Xen host was used" in text
    assert "Data: data/ (bundled with pgrant-lab)" in text and "pgrant-lab 0." in text and "commit" in text
    badges = soup.select(".pgrant-tally a[href='00-verdicts.html'] .pgrant-badge")
    assert badges and sum(int(b.get_text().rsplit(":", 1)[1]) for b in badges) >= 10
    rows = soup.select("table.pgrant-pages tbody tr")
    assert len(rows) == len(_pages(out))
    for row in rows:
        question, answer = row.find_all("td")[1:3]
        assert question.get_text(strip=True).endswith("?") and len(answer.get_text(strip=True)) > 10
        assert row.select(".pgrant-badge")


def test_no_page_shows_an_absolute_path_of_the_build_machine(site):
    out, _ = site
    for page in [out / "index.html", *_pages(out)]:
        text = page.read_text(encoding="utf-8")
        assert str(REPO_ROOT) not in text and str(out) not in text, page.name


def _browser_dom(page: Path, tmp_path: Path) -> BeautifulSoup:
    """The page's DOM after Chromium rendered it at 1400 px with no network; an injected script
    records the document's width, each block equation's height and where each hover overlay sits
    against its image (analysis.site.hover) in attributes."""
    probe = ("<script>window.addEventListener('load', () => {"
             "const b = document.body; b.setAttribute('data-scroll-width', document.documentElement.scrollWidth);"
             "b.setAttribute('data-inner-width', window.innerWidth);"
             "document.querySelectorAll('math').forEach(m => m.setAttribute('data-height', m.getBoundingClientRect().height));"
             "b.setAttribute('data-font-px', parseFloat(getComputedStyle(b).fontSize));"
             "document.querySelectorAll('svg.pgrant-hover').forEach(s => {"
             "const img = s.parentNode.querySelector('img'); const i = img.getBoundingClientRect();"
             "const r = s.getBoundingClientRect();"
             "s.setAttribute('data-fit', [i.left, r.left, i.top, r.top, i.width, r.width, i.height, r.height,"
             " img.naturalWidth].join(','));});"
             "});</script>")
    copy = tmp_path / page.name
    copy.write_text(page.read_text(encoding="utf-8").replace("</body>", probe + "</body>", 1), encoding="utf-8")
    done = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
         f"--window-size={VIEWPORT_PX},1000", "--virtual-time-budget=5000", "--dump-dom", copy.as_uri()],
        capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-1000:]
    return BeautifulSoup(done.stdout, "html.parser")


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (.ci/run installs it)")
def test_in_a_browser_offline_equations_are_typeset_nothing_overflows_1400_px_and_hovers_fit(site, tmp_path):
    out, _ = site
    typeset = shrunk = 0
    for page in [out / "index.html", *_pages(out)]:
        dom = _browser_dom(page, tmp_path)
        body = dom.body
        assert int(body["data-scroll-width"]) <= int(body["data-inner-width"]) == VIEWPORT_PX, page.name
        assert "$$" not in body.get_text(), page.name
        for math in dom.find_all("math", attrs={"display": "block"}):
            if math.find("mfrac"):  # a typeset fraction is taller than a line of text
                assert float(math["data-height"]) > 1.6 * float(body["data-font-px"]), page.name
                typeset += 1
        for svg in dom.find_all("svg", class_="pgrant-hover"):
            # The hover shapes lie exactly over their image, also when the page shrinks it.
            il, sl, it, st, iw, sw, ih, sh, natural = map(float, svg["data-fit"].split(","))
            assert max(abs(il - sl), abs(it - st), abs(iw - sw), abs(ih - sh)) <= 1, (page.name, svg["data-fit"])
            shrunk += iw < natural - 1
    assert typeset >= 1 and shrunk >= 1


def test_the_bundled_example_says_it_cannot_show_the_trade_off_and_verdicts_csv_is_beside_it(site):
    """Issue 13 items 8 and 9 on the bundled report: pages 09 and 10 say the stand-in modes decide
    nothing, and reports/verdicts.csv holds every claim's number, unit and verdict."""
    from analysis.ingest.experiment import EXAMPLE_CANNOT_SHOW_TRADEOFF

    out, _ = site
    first = EXAMPLE_CANNOT_SHOW_TRADEOFF.split(".")[0]
    for page in ("09-your-experiment.html", "10-decision.html"):
        assert first in _soup(out / page).get_text(" ", strip=True), page
    records = pd.read_csv(out / "verdicts.csv")
    assert len(records) == len(pd.read_csv(REPO_ROOT / "data" / "raw" / "seed-thread" / "thread-claims.csv"))
    assert records["verdict"].notna().all() and "unit" in records.columns


def test_every_number_in_a_page_answer_is_on_the_page(site):
    # The summary box's answer is written by hand in the notebook's header: a number in it that the
    # executed page no longer shows has drifted from what the notebook computes.
    out, _ = site
    for page in _pages(out):
        soup = _soup(page)
        summary = soup.find("section", class_="pgrant-summary")
        answer = summary.find_all("dd")[1].get_text(" ", strip=True)
        summary.decompose()
        body = soup.get_text(" ", strip=True)
        for number, unit in re.findall(r"(\d+(?:[.,]\d+)*)([kM]?)", answer):
            # 650k may be printed as 650k or 650,000 on the page.
            forms = [number + unit] + ([f"{float(number) * {'k': 1e3, 'M': 1e6}[unit]:,.0f}"] if unit else [])
            assert any(re.search(rf"(?<![\d.,]){re.escape(form)}(?![\d]|[.,]\d)", body) for form in forms), (
                page.name, number + unit, answer)


def test_every_hover_overlay_sits_on_its_figure_and_stays_inside_it(site):
    # analysis.site.hover: hover values are transparent SVG shapes over each figure (no script).
    out, _ = site
    overlays = 0
    for page in _pages(out):
        soup = _soup(page)
        for svg in soup.find_all("svg", class_="pgrant-hover"):
            frame = svg.find_parent("span", class_="pgrant-hover-frame")
            assert frame is not None and frame.find_parent("figure", class_="pgrant-figure"), page.name
            width, height = _png_size(frame.find("img")["src"])
            assert svg["viewbox"] == f"0 0 {width} {height}", page.name
            for shape in svg.find_all(["circle", "rect"]):
                x = float(shape.get("cx", shape.get("x")))
                y = float(shape.get("cy", shape.get("y")))
                right = x + float(shape.get("width", 0))
                bottom = y + float(shape.get("height", 0))
                assert 0 <= x <= right <= width and 0 <= y <= bottom <= height, (page.name, str(shape)[:120])
                title = shape.find("title").get_text()
                assert title and not BAD_CELL.search(title), (page.name, title)
            overlays += 1
    assert overlays >= 10


def _png_size(src: str) -> tuple[int, int]:
    import base64
    import struct

    raw = base64.b64decode(src.split(",", 1)[1][:64] + "==")
    return struct.unpack(">II", raw[16:24])
