"""Execute the notebooks and render them to HTML: the last stage of the pipeline.

Notebooks are jupytext percent scripts ``notebooks/NN-topic.py``. Each is converted in memory to a
notebook, executed by papermill with the report's parameters injected after its cell tagged
``parameters``, and rendered by nbconvert to ``OUT/NN-topic.html``; ``OUT/index.html`` links them
and says which pages failed. Notebooks run with a scratch working directory, so nothing is written
into the data folder they read.

The report is written whole (analysis.outdir): the pages go to a scratch folder beside OUT, which
replaces OUT in one rename when every page is done; an interrupt (Ctrl-C, SIGTERM as
KeyboardInterrupt) leaves OUT as it was and no scratch behind. OUT must be new, empty or an
earlier report, and two reports never write one OUT at once (a lock beside it).
"""

from __future__ import annotations

import html
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from analysis.paths import DATA_DIR, NOTEBOOKS_DIR, RAW_DATA_DIR, REPO_ROOT

# Inputs exactly as fio or a source gave them: read, never written, by everything but `make data*`.
KERNEL_NAME = "python3"
# A notebook that assigns this name in its parameters cell applies to a user's experiment folder:
# `pgrant-lab report --data DIR` runs only those notebooks, with experiment_dir = DIR (absolute).
EXPERIMENT_PARAMETER = "experiment_dir"
# With --data the report parses the experiment's fio files once and passes the tidy table to those
# notebooks as a file in its scratch folder (analysis.ingest.experiment.save_table / read_table).
EXPERIMENT_TABLE_PARAMETER = "experiment_table"
# A notebook that assigns this name gets the report's (staging) folder, for files that belong to the
# report beside its pages (notebook 00 writes verdicts.csv there).
REPORT_DIR_PARAMETER = "report_dir"


@dataclass
class Page:
    """One executed notebook: its source, the HTML written, and the error if execution failed."""

    source: Path
    html: Path
    error: str | None = None
    summary: object = None  # analysis.site.summary.Summary once rendered

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class Report:
    """Every page of one report run and the index that links them."""

    out_dir: Path
    pages: list[Page] = field(default_factory=list)

    @property
    def index(self) -> Path:
        return self.out_dir / "index.html"

    @property
    def failed(self) -> list[Page]:
        return [p for p in self.pages if not p.ok]


def notebook_sources(notebooks_dir: Path = NOTEBOOKS_DIR) -> list[Path]:
    """The notebooks of the suite in reading order: ``NN-*.py`` sorted by name."""
    return sorted(Path(notebooks_dir).glob("[0-9][0-9]-*.py"))


def _socket_folder() -> Path:
    """A new private folder for one kernel's Unix sockets, short enough for a socket path.

    A Unix socket path holds at most 107 bytes (sun_path[UNIX_PATH_MAX], UNIX_PATH_MAX 108 with the
    closing NUL: torvalds/linux include/uapi/linux/un.h:7), so a long TMPDIR is passed over for /tmp.
    """
    base = tempfile.gettempdir()
    return Path(tempfile.mkdtemp(prefix="pgk-", dir=base if len(base) <= 60 else "/tmp"))


def execute(source: Path, out_ipynb: Path, parameters: dict, *, cwd: Path, page_data: Path | None = None) -> None:
    """Execute one jupytext script with papermill, writing the executed notebook to out_ipynb.

    With ``page_data``, a hidden first cell routes tables and figures through analysis.tables and
    writes their CSVs there (analysis.site.capture). Raises papermill's PapermillExecutionError
    when a cell fails; the partial notebook (with the error output) is still written, so it can be
    rendered.
    """
    import threading

    import jupytext
    import papermill
    from jupyter_client.manager import KernelManager

    from analysis.site import capture

    nb = jupytext.read(source)
    if page_data is not None:
        nb.cells.insert(0, capture.install_cell(page_data))
    nb.metadata["kernelspec"] = {"name": KERNEL_NAME, "display_name": "Python 3", "language": "python"}
    # papermill runs in a worker thread with a kernel manager we own, so that an interrupt (Ctrl-C,
    # or SIGTERM made KeyboardInterrupt by the CLI) reaches this thread: nbclient otherwise replaces
    # the process's SIGTERM handler while a notebook runs (asyncio add_signal_handler, main thread
    # only) and restores the default one (die at once, leaving scratch behind) afterwards.
    #
    # The kernel talks over Unix sockets in a private folder, not TCP ports on localhost: a TCP port
    # freed by one kernel is soon handed to another (ours or any other program's on the host), and a
    # client still reconnecting to it then sends its heartbeat pings into the new kernel's control
    # channel, which logs "DELIM not in msg_list" tracebacks on the console (seen in CI).
    sockets = _socket_folder()
    km = KernelManager(kernel_name=KERNEL_NAME, transport="ipc",
                       connection_file=str(sockets / "kernel.json"), ip=str(sockets / "k"))
    failure: list[BaseException] = []

    def run() -> None:
        try:
            papermill.execute_notebook(nb, str(out_ipynb), parameters=parameters, kernel_name=KERNEL_NAME,
                                       cwd=str(cwd), progress_bar=False, log_output=False, km=km,
                                       # The kernels' own log (ipykernel's "running over TCP without
                                       # encryption", a "KeyboardInterrupt caught" at shutdown) is not
                                       # the reader's business: cell errors still reach the page.
                                       extra_arguments=["--log-level=CRITICAL"])
        except BaseException as err:  # noqa: BLE001 - handed to the calling thread
            failure.append(err)

    worker = threading.Thread(target=run, name=f"papermill {source.stem}", daemon=True)
    worker.start()
    try:
        while worker.is_alive():
            worker.join(0.2)
    finally:
        if km.has_kernel:
            km.shutdown_kernel(now=True)
        worker.join(10)
        shutil.rmtree(sockets, ignore_errors=True)
    if failure:
        raise failure[0]


def to_html(ipynb: Path, html_path: Path, *, source: Path | None = None, nav=None, error: str | None = None):
    """Render an executed notebook to an HTML page with its code cells hidden (analysis.site.page:
    title, navigation, summary box, equations as MathML); return the page's summary."""
    from analysis.site import page

    source = Path(source or ipynb)
    nav = nav or page.navigation([(source.stem, source.stem)], 0)
    return page.render(ipynb, source, html_path, nav=nav, error=error)


def write_index(report: Report, title: str, *, data_label: str = "", experiment: bool = False,
                folder: Path | None = None) -> Path:
    """Write the landing page ``index.html`` (analysis.site.landing): what the suite is, the verdict
    tally, one line per page (question, answer, evidence), data folder, date, version, commit; into
    ``folder`` (default the report's)."""
    from analysis.site import landing
    from analysis.site.summary import from_source

    summaries = []
    for page in report.pages:
        summary = page.summary or from_source(page.source)
        summary.error = page.error
        summaries.append(summary)
    index = report.index if folder is None else Path(folder) / report.index.name
    return landing.write(index, summaries, landing.provenance(data_label), title=title,
                         experiment=experiment)


def build(
    out_dir: Path,
    *,
    parameters: dict | None = None,
    notebooks_dir: Path = NOTEBOOKS_DIR,
    only: list[str] | None = None,
    title: str = "pgrant-lab report",
    progress: bool | None = None,
    inputs: list[Path] = (),
    data_label: str = "",
    experiment_table: "pandas.DataFrame | None" = None,  # noqa: F821 - pandas imported lazily
) -> Report:
    """Execute every notebook (or those whose stem starts with one of ``only``) into out_dir.

    ``parameters`` are injected into each notebook's ``parameters`` cell; a notebook receives only
    the names its parameters cell defines, so notebooks can take different subsets.
    A failed notebook does not stop the others; it is listed in ``Report.failed``.
    ``inputs`` (folders the notebooks read) may not hold or lie inside out_dir. UsageError when
    out_dir may not be written (analysis.outdir.claim) or another report is writing it.
    ``experiment_table`` (analysis.ingest.experiment.load's table) is written once into the scratch
    folder and its path passed as the ``experiment_table`` parameter, so that no notebook parses
    the experiment's fio files again.
    """
    from tqdm.auto import tqdm

    from analysis import outdir

    real = outdir.claim(Path(out_dir), command="pgrant-lab report", inputs=[*inputs, Path(notebooks_dir)],
                        recognise=_earlier_report)
    report = Report(out_dir=real)
    sources = notebook_sources(notebooks_dir)
    if only:
        sources = [s for s in sources if any(s.stem.startswith(o) for o in only)]
    parameters = dict(parameters or {})
    with outdir.lock(real, command="pgrant-lab report"), outdir.staging(real) as partial, \
            tempfile.TemporaryDirectory(prefix="pgrant-lab-nb-") as scratch:
        from analysis import site
        from analysis.site import page as site_page

        titles = [(s.stem, site_page.short_title(s)) for s in sources]
        if experiment_table is not None:
            from analysis.ingest import experiment

            cached = experiment.save_table(experiment_table, Path(scratch) / "experiment-table.pkl")
            parameters[EXPERIMENT_TABLE_PARAMETER] = str(cached)
        parameters[REPORT_DIR_PARAMETER] = str(partial)
        for i, source in enumerate(tqdm(sources, desc="notebooks", unit="nb", disable=_quiet(progress))):
            page = Page(source=source, html=real / f"{source.stem}.html")
            executed = partial / f"{source.stem}.ipynb"
            try:
                execute(source, executed, _accepted(source, parameters), cwd=Path(scratch),
                        page_data=partial / site.data_dir_name(source.stem))
            except Exception as err:  # noqa: BLE001 - any failure is reported on the page and index
                page.error = _one_line(err)
            page.summary = to_html(executed, partial / page.html.name, source=source,
                                   nav=site_page.navigation(titles, i), error=page.error)
            report.pages.append(page)
        write_index(report, title, data_label=data_label or _data_label(parameters),
                    experiment=bool(parameters.get(EXPERIMENT_PARAMETER)), folder=partial)
        outdir.write_marker(partial, command="pgrant-lab report")
        outdir.publish(partial, real)
    return report


_REPORT_FILE = re.compile(r"index\.html|[0-9][0-9]-[^/]*\.(html|ipynb)|[0-9][0-9]-[^/]*-data")


def _earlier_report(folder: Path) -> bool:
    """A report folder written before reports carried analysis.outdir's marker: only index.html and
    NN-*.html/.ipynb pages, and an index that says it is a pgrant-lab report."""
    names = [p.name for p in folder.iterdir()]
    if not names or not all(_REPORT_FILE.fullmatch(n) for n in names) or "index.html" not in names:
        return False
    try:
        return "pgrant-lab report" in (folder / "index.html").read_text(encoding="utf-8", errors="replace")[:4096]
    except OSError:
        return False


def parameter_names(source: Path) -> set[str]:
    """The names the notebook's cell tagged ``parameters`` assigns."""
    import jupytext

    nb = jupytext.read(source)
    names: set[str] = set()
    for cell in nb.cells:
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            for line in cell.source.splitlines():
                head = line.split("=", 1)[0].split(":", 1)[0].strip()
                if head.isidentifier():
                    names.add(head)
    return names


def experiment_notebooks(notebooks_dir: Path = NOTEBOOKS_DIR) -> list[Path]:
    """The notebooks that apply to a user's experiment: those with an ``experiment_dir`` parameter."""
    return [s for s in notebook_sources(notebooks_dir) if EXPERIMENT_PARAMETER in parameter_names(s)]


def _accepted(source: Path, parameters: dict) -> dict:
    """The subset of parameters that the notebook's parameters cell assigns."""
    names = parameter_names(source)
    return {k: v for k, v in parameters.items() if k in names}


def _data_label(parameters: dict) -> str:
    """The data folder as the landing page names it: relative to the repository, or its name."""
    from analysis.site import landing

    if parameters.get(EXPERIMENT_PARAMETER):
        return landing.data_label(Path(parameters[EXPERIMENT_PARAMETER]), experiment=True)
    return landing.data_label(Path(parameters.get("data_dir", DATA_DIR)))


def _quiet(progress: bool | None) -> bool:
    """Progress bars on a terminal only, never in CI logs."""
    from analysis.progress import enabled

    return not enabled(progress)


def _one_line(err: Exception) -> str:
    text = str(err).strip().splitlines()
    name = getattr(err, "ename", None) or type(err).__name__
    value = getattr(err, "evalue", None) or (text[-1] if text else "")
    return f"{name}: {value}"
