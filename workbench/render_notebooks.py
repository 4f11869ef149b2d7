"""Execute the guided notebooks headless and render them to HTML that opens offline.

``make report`` runs ``python -m workbench.render_notebooks --hide-code``: every numbered
notebook in ``notebooks/`` (or ``--notebooks DIR``, e.g. a folder made by
``workbench notebooks DIR``) is executed in order on the bundled sample (they
share one plans folder and one exports folder inside the report folder, so
notebook 03 and 04 find the draft saved by 02), then written as
``reports/<name>.html``. For stakeholders (``--hide-code``, what ``make report`` does) the
pages show no code cells and no prompts, and no local path: the notebooks run inside the
report folder with relative ``plans``/``exports`` folders, and any path left in an output
is cut to its part inside the report folder.

The HTML needs no internet: maps are matplotlib PNGs embedded as data URIs,
and no script is loaded from a CDN (require.js, MathJax and the widget
manager are left out). Live widgets (ipyleaflet maps) cannot render without
those scripts, so each widget output is replaced by a short note that says
where to see it live (``make lab`` or ``make app``).

Parameters are injected the way papermill does it: a new cell tagged
``injected-parameters`` right after the one cell tagged ``parameters``.
"""

from __future__ import annotations

import argparse
import copy
import html
import json
import os
import shutil
import stat
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import nbformat

from workbench.bundled import NOTEBOOKS_DIR
from workbench.errors import InputError
from workbench.safeio import atomic_write_text

PARAMETERS_TAG = "parameters"
INJECTED_TAG = "injected-parameters"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
#: File that marks a folder as written by this module (only such folders are cleared).
MARKER = ".workbench-report"

WIDGET_NOTE = (
    '<div class="workbench-widget-note" style="border:1px dashed #999;padding:8px;color:#555">'
    "Interactive map (a live widget): open this notebook in JupyterLab (<code>make lab</code>) "
    "or the comparison app (<code>make app</code>) to use it. The static maps in this report show "
    "the same territories.</div>"
)

# The lab template without anything fetched from the internet: no require.js,
# no MathJax, no Mermaid, no widget manager.
_OFFLINE_TEMPLATE = """{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{% block jupyter_widgets %}{% endblock jupyter_widgets %}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
"""


@dataclass(frozen=True)
class RenderedNotebook:
    """One notebook executed and written: where the HTML is and how long execution took."""

    name: str
    html: Path
    seconds: float


def notebook_paths(folder: str | Path = NOTEBOOKS_DIR) -> list[Path]:
    """The numbered notebooks (``01_...ipynb``, ``02_...``) of a folder, in order.

    Examples
    --------
    >>> [p.name for p in notebook_paths()][:1]
    ['01_explore_accounts.ipynb']
    """
    folder = Path(folder)
    paths = sorted(p for p in folder.glob("[0-9][0-9]_*.ipynb"))
    if not paths:
        raise InputError(f"no numbered notebooks (01_*.ipynb, ...) in {folder}; pass the notebooks folder")
    return paths


def parameters_cell_index(nb) -> int:
    """Index of the one code cell tagged ``parameters``; InputError if there is not exactly one.

    Examples
    --------
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    >>> parameters_cell_index(nb)
    Traceback (most recent call last):
    ...
    workbench.errors.InputError: notebook has 0 cells tagged 'parameters' (need exactly one): tag the cell that sets the parameters
    """
    found = [i for i, cell in enumerate(nb.cells)
             if cell.cell_type == "code" and PARAMETERS_TAG in cell.get("metadata", {}).get("tags", [])]
    if len(found) != 1:
        raise InputError(
            f"notebook has {len(found)} cells tagged {PARAMETERS_TAG!r} (need exactly one): "
            "tag the cell that sets the parameters")
    return found[0]


def inject_parameters(nb, parameters: Mapping[str, object] | None):
    """Copy of ``nb`` with a cell setting ``parameters`` right after the parameters cell.

    Values are written with ``repr``, so use plain Python values (str, numbers,
    lists, dicts, None). Names must be set in the parameters cell already: a
    typo would otherwise be silently ignored.

    Examples
    --------
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1", metadata={"tags": ["parameters"]}),
    ...                                      nbformat.v4.new_code_cell("print(x)")])
    >>> [c.source for c in inject_parameters(nb, {"x": 2}).cells]
    ['x = 1', '# Parameters injected for this run\\nx = 2', 'print(x)']
    >>> inject_parameters(nb, {"y": 2})
    Traceback (most recent call last):
    ...
    workbench.errors.InputError: parameter 'y' is not set in the notebook's parameters cell (it sets: x)
    """
    nb = copy.deepcopy(nb)
    if not parameters:
        return nb
    index = parameters_cell_index(nb)
    defined = _assigned_names(nb.cells[index].source)
    for name in parameters:
        if name not in defined:
            raise InputError(
                f"parameter {name!r} is not set in the notebook's parameters cell (it sets: {', '.join(sorted(defined))})")
    lines = ["# Parameters injected for this run"] + [f"{name} = {value!r}" for name, value in parameters.items()]
    cell = nbformat.v4.new_code_cell("\n".join(lines), metadata={"tags": [INJECTED_TAG]})
    cell.pop("id", None)
    nb.cells.insert(index + 1, cell)
    if nb.nbformat_minor >= 5:
        cell["id"] = f"{INJECTED_TAG}-{index}"
    return nb


def _assigned_names(source: str) -> set[str]:
    import ast

    names = set()
    for node in ast.walk(ast.parse(source)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        names.update(t.id for t in targets if isinstance(t, ast.Name))
    return names


def execute_notebook(path: str | Path, *, parameters: Mapping[str, object] | None = None, cwd: str | Path | None = None,
                     timeout: int = 600, kernel_name: str = "python3"):
    """Execute a notebook headless and return ``(executed notebook, seconds)``.

    The source file is not changed. ``cwd`` (default: the notebook's folder)
    is the working directory of the kernel, so relative paths in the
    parameters mean what they mean in JupyterLab. A failing cell raises
    ``nbclient.exceptions.CellExecutionError`` naming the cell and the error.
    """
    from nbclient import NotebookClient

    path = Path(path)
    nb = inject_parameters(nbformat.read(path, as_version=4), parameters)
    client = NotebookClient(nb, timeout=timeout, kernel_name=kernel_name,
                            resources={"metadata": {"path": str(Path(cwd) if cwd else path.parent)}})
    start = time.perf_counter()
    client.execute()
    return nb, time.perf_counter() - start


def strip_widgets(nb):
    """Copy of ``nb`` without widget state, each widget view replaced by :data:`WIDGET_NOTE`.

    Examples
    --------
    >>> cell = nbformat.v4.new_code_cell("m")
    >>> cell.outputs = [nbformat.v4.new_output("display_data", data={WIDGET_VIEW: {"model_id": "x"}, "text/plain": "Map()"})]
    >>> out = strip_widgets(nbformat.v4.new_notebook(cells=[cell])).cells[0].outputs[0]
    >>> sorted(out.data), "make lab" in out.data["text/html"]
    (['text/html'], True)
    """
    nb = copy.deepcopy(nb)
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if WIDGET_VIEW in output.get("data", {}):
                output["data"] = {"text/html": WIDGET_NOTE}
    return nb


def to_offline_html(nb, *, hide_code: bool = False) -> str:
    """HTML of an executed notebook that loads nothing from the internet.

    Images are embedded (data URIs); widget outputs become a note (see
    :func:`strip_widgets`). ``hide_code=True`` leaves out the code cells'
    input (markdown and outputs stay), for readers who only want results.
    """
    import jinja2
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="lab", embed_images=True, exclude_input=hide_code,
                            exclude_input_prompt=hide_code, exclude_output_prompt=hide_code,
                            extra_loaders=[jinja2.DictLoader({"workbench_offline.html.j2": _OFFLINE_TEMPLATE})])
    exporter.template_file = "workbench_offline.html.j2"
    body, _ = exporter.from_notebook_node(strip_widgets(nb))
    return body


def render_reports(out_dir: str | Path = "reports", *, notebooks_dir: str | Path = NOTEBOOKS_DIR, names=None,
                   parameters: Mapping[str, Mapping[str, object]] | None = None, timeout: int = 600,
                   hide_code: bool = False, log=print) -> list[RenderedNotebook]:
    """Execute the numbered notebooks in order and write ``<out_dir>/<name>.html`` for each.

    The notebooks share ``<out_dir>/plans`` and ``<out_dir>/exports``
    (cleared first when a previous render made them), so the report shows the
    files it describes. ``<out_dir>/index.html`` links the pages and says how
    long each notebook took to run.

    Parameters
    ----------
    out_dir : path
        Report folder (created).
    notebooks_dir : path
        Folder of the numbered notebooks.
    names : sequence of str, optional
        Only these notebooks (file stems or names); default all, in order.
    parameters : mapping, optional
        Extra parameters per notebook stem, e.g. ``{"02_cluster_accounts": {"CHOSEN": "balanced"}}``.
    timeout : int
        Seconds allowed per cell.
    hide_code : bool, default False
        Leave the code out of the HTML (see :func:`to_offline_html`).
    log : callable
        Progress messages (``print`` by default; ``None`` for silence).
    """
    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    workspace = {}
    for sub in ("plans", "exports"):
        folder = out_dir / sub
        if folder.exists():
            if not (folder / MARKER).exists():
                raise InputError(f"{folder} exists and was not made by a report render: move it away or pick another out_dir")
            _remove_report_folder(folder)
        folder.mkdir()
        (folder / MARKER).write_text("written by workbench.render_notebooks; cleared on the next render\n")
        workspace[sub] = folder
    # Relative to the report folder, where the notebooks run: no local path is injected into what they print.
    shared = {"PLANS_DIR": "plans", "EXPORT_DIR": "exports"}
    paths = notebook_paths(notebooks_dir)
    if names:
        wanted = {Path(n).stem for n in names}
        unknown = wanted - {p.stem for p in paths}
        if unknown:
            raise InputError(f"no notebook named {sorted(unknown)} in {notebooks_dir} (have: {[p.stem for p in paths]})")
        paths = [p for p in paths if p.stem in wanted]
    rendered = []
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        defined = _assigned_names(nb.cells[parameters_cell_index(nb)].source)
        params = {k: v for k, v in shared.items() if k in defined}
        params.update((parameters or {}).get(path.stem, {}))
        if log:
            log(f"executing {path.name} ...")
        executed, seconds = execute_notebook(path, parameters=params, cwd=out_dir, timeout=timeout)
        if hide_code:
            executed = scrub_paths(executed, [out_dir, Path(notebooks_dir).resolve(), Path.home()])
        page = atomic_write_text(out_dir / f"{path.stem}.html", to_offline_html(executed, hide_code=hide_code))
        page.chmod(0o644)  # a report is for sharing (the atomic write creates it private)
        if log:
            log(f"  {seconds:.1f} s -> {page}")
        rendered.append(RenderedNotebook(path.stem, page, seconds))
    index = {r.name: {"html": r.html.name, "seconds": round(r.seconds, 1)} for r in rendered}
    atomic_write_text(out_dir / "index.json", json.dumps(index, indent=2) + "\n").chmod(0o644)
    atomic_write_text(out_dir / "index.html", index_html(rendered)).chmod(0o644)
    return rendered


def scrub_paths(nb, folders) -> nbformat.NotebookNode:
    r"""Copy of ``nb`` whose outputs name no local folder (``/home/ana/reports/plans/x`` -> ``plans/x``).

    For stakeholder reports: a path on the analyst's machine means nothing to a reader.

    Examples
    --------
    >>> cell = nbformat.v4.new_code_cell("x")
    >>> cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="saved in /srv/rep/plans/a\n")]
    >>> scrub_paths(nbformat.v4.new_notebook(cells=[cell]), ["/srv/rep"]).cells[0].outputs[0].text
    'saved in plans/a\n'
    """
    nb = copy.deepcopy(nb)
    prefixes = sorted({str(Path(f)) for f in folders if str(f) not in ("", "/")}, key=len, reverse=True)

    def clean(text: str) -> str:
        for prefix in prefixes:
            text = text.replace(prefix + os.sep, "").replace(prefix, ".")
        return text

    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if isinstance(output.get("text"), str):
                output["text"] = clean(output["text"])
            for key, value in list(output.get("data", {}).items()):
                if isinstance(value, str) and (key.startswith("text/") or key == "application/json"):
                    output["data"][key] = clean(value)
    return nb


def _remove_report_folder(folder: Path) -> None:
    # Approved plans are saved read-only (folders included): make the folders writable so they can be removed.
    for root, _dirs, _files in os.walk(folder):
        os.chmod(root, os.stat(root).st_mode | stat.S_IWUSR | stat.S_IXUSR | stat.S_IRUSR)
    shutil.rmtree(folder)


def index_html(rendered) -> str:
    """A small self-contained page linking the rendered notebooks.

    Examples
    --------
    >>> page = index_html([RenderedNotebook("01_explore_accounts", Path("01_explore_accounts.html"), 12.3)])
    >>> '<a href="01_explore_accounts.html">01 explore accounts</a>' in page, "12 s" in page
    (True, True)
    """
    rows = "\n".join(
        f'<li><a href="{html.escape(r.html.name)}">{html.escape(r.name.replace("_", " "))}</a> '
        f'<span style="color:#777">(ran in {r.seconds:.0f} s)</span></li>' for r in rendered)
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Territory Workbench report</title>"
            "</head>\n<body style=\"font-family:sans-serif;max-width:50em;margin:2em auto\">\n"
            "<h1>Territory Workbench report</h1>\n<p>The guided notebooks, executed on the bundled sample. Each page "
            "opens offline; the plans and exports they describe are in <code>plans/</code> and "
            f"<code>exports/</code> next to this page.</p>\n<ol style=\"list-style:none;padding:0\">\n{rows}\n</ol>\n"
            "</body></html>\n")


def main(argv=None) -> int:
    """``python -m workbench.render_notebooks [--out reports] [--notebooks DIR] [--hide-code] [NAME ...]``."""
    parser = argparse.ArgumentParser(prog="python -m workbench.render_notebooks", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="notebooks to render (default: all, in order)")
    parser.add_argument("--out", default="reports", help="report folder (default: reports)")
    parser.add_argument("--notebooks", default=str(NOTEBOOKS_DIR), help="folder of the numbered notebooks")
    parser.add_argument("--timeout", type=int, default=600, help="seconds allowed per cell (default: 600)")
    parser.add_argument("--hide-code", action="store_true", help="leave the code cells' input out of the HTML")
    args = parser.parse_args(argv)
    try:
        rendered = render_reports(args.out, notebooks_dir=args.notebooks, names=args.names, timeout=args.timeout,
                                  hide_code=args.hide_code)
    except InputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    total = sum(r.seconds for r in rendered)
    print(f"rendered {len(rendered)} notebooks in {total:.0f} s into {Path(args.out).resolve()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
