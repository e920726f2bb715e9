"""The built-in renderer: the Quarto subset this project uses, made from Quarto's own parts.

Where Quarto is not installed, `make report` renders the same `_quarto.yml` and `.qmd` files
with the tools Quarto is built on: Jupyter (`nbclient`) runs each page's Python cells in a
kernel, pandoc writes HTML through a site template and Typst through a print template, and the
`typst` package compiles the PDF. Cells learn their output format from `QUARTO_EXECUTE_INFO`,
exactly as under Quarto. The supported features are listed in docs/rendering.md.
"""

from __future__ import annotations

import ast
import base64
import contextlib
import datetime as dt
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import pypandoc
import yaml

from pipeline.editions.manifest import ENGINE_VARIABLE  # tells cells and scripts the engine
from pipeline.errors import InputError
from pipeline.render import timing
from pipeline.render.failures import RenderError, last_line, said_why
from pipeline.render.freeze import Cache
from pipeline.render.kernel import KernelRequest, KernelSpace, kernel_space, run_cells
from pipeline.render.qmd import Cell, Page, Project, page_formats, parse_qmd, read_project
from pipeline.render.shortcodes import resolve_shortcodes

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
# Quarto's `.content-visible` / `.content-hidden` divs, for both writers (docs/rendering.md).
CONDITIONAL_FILTER = TEMPLATES / "conditional-content.lua"
# Kernels and scripts import `pipeline` from this checkout, whatever folder the project is in.
PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])
DEFAULT_CELL_OPTIONS = {"echo": False, "output": True, "warning": False}
DEFAULT_CELL_TIMEOUT = 900  # seconds per cell when `execute: timeout` is not set
# Quarto's own defaults for `toc-title`, so the contents read the same under both engines.
TOC_TITLES = {"html": "On this page", "typst": "Table of contents"}
__all__ = ["RenderError", "render_project"]  # RenderError is re-exported for callers


@dataclass
class RenderedPage:
    source: Path
    outputs: list[Path]


def _cell_options(cell: Cell, page: Page, project: Project) -> dict[str, Any]:
    opts = dict(DEFAULT_CELL_OPTIONS)
    opts.update(project.config.get("execute", {}) or {})
    opts.update(page.front_matter.get("execute", {}) or {})
    opts.update(cell.options)
    return opts


def execute_page(
    page: Page,
    project: Project,
    fmt: str,
    workdir: Path,
    kernels: KernelSpace,
    cache: Cache | None = None,
) -> tuple[list[list[dict[str, Any]]], int]:
    """The nbformat outputs of every cell of `page`, as Quarto would run it for format `fmt`,
    and how many of them came from the cache.

    With a `cache` folder, cells whose reads did not change keep their last outputs and only
    the others run (`pipeline.render.freeze`); with none, every cell runs in a fresh kernel.
    Any failure (a kernel that does not start or dies, a cell that raises or runs past
    `execute: timeout`) stops the render with a RenderError naming the page, the step and the
    cause, never a half-written page.
    """
    if not page.cells:
        return [], 0  # a page of text only starts no kernel (nor does Quarto)
    if cache is None:
        codes = [c.code for c in page.cells]
        return _run_page(page, project, fmt, workdir, kernels, codes), 0
    from pipeline.render import freeze

    name, n = page_name(page, project), len(page.cells)
    key, _, cached, plan = _cell_plan(page, project, fmt, cache)
    cells = [dict(c) for c in cached] if cached else [{} for _ in range(n)]
    if plan.run:
        codes, lines = _probed_codes(page, plan.run)
        outs = _run_page(page, project, fmt, workdir, kernels, codes, lines)
        for k, i in enumerate(plan.run):
            report = freeze.probe_result(outs[2 + 2 * k])
            cells[i] = {"outputs": outs[1 + 2 * k], **report}
        # Afresh: the cells just wrote chart data that the plan's resolver saw before.
        freeze.save(cache.folder, name, fmt, key, cells, freeze.resolver(cache.settings))
    return [c["outputs"] for c in cells], n - len(plan.run)


def _cell_plan(page: Page, project: Project, fmt: str, cache: Cache):
    """The page's cache key, the read resolver, its cached cells and which cells must run."""
    from pipeline.render import freeze

    name, n = page_name(page, project), len(page.cells)
    key = freeze.page_key(page.path.read_bytes(), fmt, cache.settings)
    resolve = freeze.resolver(cache.settings)
    cached = freeze.load(cache.folder, name, fmt, key, n)
    return key, resolve, cached, freeze.plan(cached, n, resolve)


def _probed_codes(page: Page, run: list[int]) -> tuple[list[str], list[int]]:
    """The cells to run, each followed by the cache's probe (one more probe first), and the
    page line each comes from."""
    from pipeline.render.freeze import PROBE_CODE

    codes = [PROBE_CODE]
    for i in run:
        codes += [page.cells[i].code, PROBE_CODE]
    lines = [page.cells[0].line] + [page.cells[i].line for i in run for _ in (0, 1)]
    return codes, lines


def kernel_codes(page: Page, project: Project, fmt: str, cache: Cache | None) -> list[str]:
    """What the kernel of `page` as `fmt` will run, in order; none: it starts no kernel."""
    if not page.cells or fmt not in ("html", "typst"):
        return []
    if cache is None:
        return [c.code for c in page.cells]
    run = _cell_plan(page, project, fmt, cache)[3].run
    return _probed_codes(page, run)[0] if run else []


def import_only(code: str) -> bool:
    """A cell of nothing but `import` statements (what may run before its page's turn)."""
    try:
        body = ast.parse(code).body
    except SyntaxError:  # IPython magics, say: not plain imports
        return False
    return bool(body) and all(isinstance(node, ast.Import | ast.ImportFrom) for node in body)


def kernel_request(
    page: Page,
    project: Project,
    fmt: str,
    info_dir: Path,
    codes: list[str],
    base_env: Mapping[str, str] | None = None,
) -> KernelRequest:
    """The kernel `page` runs `codes` in for `fmt`: the folder and the environment Quarto
    gives it (`QUARTO_EXECUTE_INFO` names a file in `info_dir` saying the format), `pipeline`
    importable, and the leading cells that only import (with the cache's probes), run once it
    is up. The environment is `base_env` (default: this process's) plus those."""
    from pipeline.render.freeze import PROBE_CODE

    base = dict(os.environ if base_env is None else base_env)
    info_path = info_dir / f"execute-info-{page.path.stem}-{fmt}.json"
    info_path.write_text(
        json.dumps(
            {
                "format": {"pandoc": {"to": fmt}, "identifier": {"target-format": fmt}},
                "document_path": str(page.path),
                "project_root": str(project.root),
            }
        ),
        encoding="utf-8",
    )
    cwd = project.root if project.execute_dir_is_project else page.path.parent
    # The kernel imports `pipeline` from this checkout, whatever folder the project is in.
    pythonpath = os.pathsep.join(
        filter(None, [str(project.root), PACKAGE_ROOT, base.get("PYTHONPATH")])
    )
    env = dict(
        base,
        QUARTO_EXECUTE_INFO=str(info_path),
        PYTHONPATH=pythonpath,
        QUARTO_PROJECT_ROOT=str(project.root),
        QUARTO_DOCUMENT_PATH=str(page.path.parent),
        **{ENGINE_VARIABLE: "builtin"},
    )
    prelude: list[str] = []
    for code in codes:
        if code != PROBE_CODE and not import_only(code):
            break
        prelude.append(code)
    key = (page_name(page, project), fmt)
    return KernelRequest(key, cwd, env, tuple(prelude), cell_timeout(page, project))


def _run_page(
    page: Page,
    project: Project,
    fmt: str,
    workdir: Path,
    kernels: KernelSpace,
    codes: list[str],
    lines: list[int] | None = None,
) -> list[list[dict[str, Any]]]:
    """Run `codes` in one fresh kernel with the page's environment; their outputs, in order."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(code) for code in codes]
    run_cells(
        nb,
        kernels,
        kernel_request(page, project, fmt, kernels.folder, codes),
        cell_timeout(page, project),
        {"page": page_name(page, project), "fmt": fmt},
        lines or [c.line for c in page.cells],
    )
    return [c.get("outputs", []) for c in nb.cells]


def page_name(page: Page, project: Project) -> str:
    """The page as the user knows it: relative to the project when it lies inside."""
    try:
        return page.path.relative_to(project.root).as_posix()
    except ValueError:
        return str(page.path)


def cell_timeout(page: Page, project: Project) -> float | None:
    """Quarto's `execute: timeout` (seconds per cell; page over project), else the default."""
    value = DEFAULT_CELL_TIMEOUT
    for source in (project.config, page.front_matter):
        execute = source.get("execute") or {}
        if isinstance(execute, dict) and "timeout" in execute:
            value = execute["timeout"]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(
            f"execute: timeout must be a number of seconds, not {value!r}",
            page.path,
            fix="write e.g. `execute: {timeout: 300}` (0 or less: no limit)",
        )
    return float(value) if value > 0 else None


def _fenced(text: str, cls: str = "") -> str:
    fence = "````"
    return f"{fence}{cls}\n{text.rstrip()}\n{fence}\n"


def _raw(fmt: str, text: str) -> str:
    return f"```{{={fmt}}}\n{text}\n```\n"


def _pick(data: dict[str, Any], fmt: str) -> tuple[str, Any] | None:
    order = (
        ["text/html", "image/svg+xml", "image/png", "text/markdown", "text/plain"]
        if fmt.startswith("html")
        else ["image/svg+xml", "image/png", "text/markdown", "text/plain"]
    )
    for mime in order:
        if mime in data:
            return mime, data[mime]
    return None


def cell_markdown(
    cell: Cell,
    opts: dict[str, Any],
    outputs: list[dict[str, Any]],
    fmt: str,
    media_dir: Path,
    media_href: str,
    fig_number: int,
) -> str:
    """Pandoc Markdown for one executed cell, honouring echo/output/label/fig-cap/fig-alt."""
    parts: list[str] = []
    if opts.get("echo"):
        parts.append(_fenced(cell.code, " python"))
    if opts.get("output") is False or opts.get("include") is False:
        return "\n".join(parts) if opts.get("include") is not False else ""
    asis = opts.get("output") == "asis"
    label = cell.label or ""
    caption = opts.get("fig-cap")
    alt = opts.get("fig-alt")
    is_figure = label.startswith("fig-")
    body: list[str] = []
    for n, out in enumerate(outputs):
        kind = out.get("output_type")
        if kind == "stream":
            if out.get("name") == "stderr" and not opts.get("warning"):
                continue
            body.append(out["text"] if asis else _fenced(out["text"]))
            continue
        if kind not in ("display_data", "execute_result"):
            continue
        picked = _pick(out.get("data", {}), fmt)
        if picked is None:
            continue
        mime, value = picked
        text = "".join(value) if isinstance(value, list) else value
        if mime == "text/html":
            body.append(_raw("html", text))
        elif mime in ("image/svg+xml", "image/png"):
            ext = "svg" if mime == "image/svg+xml" else "png"
            name = f"{label or 'cell-' + str(cell.line)}-{n}.{ext}"
            path = media_dir / name
            if ext == "svg":
                path.write_text(text, encoding="utf-8")
            else:
                path.write_bytes(base64.b64decode(text))
            attrs = f"{{#{label}}}" if is_figure and n == len(outputs) - 1 else ""
            if alt:
                quoted = str(alt).replace("\\", "\\\\").replace('"', '\\"')
                attrs = (
                    attrs[:-1] + f' fig-alt="{quoted}"}}' if attrs else f'{{fig-alt="{quoted}"}}'
                )
            cap = caption or ""
            body.append(f"![{cap}]({media_href}/{name}){attrs}\n")
        elif mime == "text/markdown":
            body.append(text + "\n")
        else:
            body.append(text + "\n" if asis else _fenced(text))
    content = "\n".join(body)
    if is_figure and fmt.startswith("html") and caption:
        # In HTML a chart is raw Vega markup, so the figure wrapper is written here.
        from html import escape

        aria = f' aria-label="{escape(str(alt))}"' if alt else ""
        # The caption stays Markdown, as Quarto reads `fig-cap`: pandoc curls its quotes.
        content = (
            _raw("html", f'<figure class="figure" id="{escape(label)}"{aria}>')
            + content
            + _raw("html", "<figcaption>")
            + f"\nFigure {fig_number}: {caption}\n\n"
            + _raw("html", "</figcaption></figure>")
        )
    parts.append(content)
    return "\n".join(parts)


def page_markdown(
    page: Page,
    project: Project,
    fmt: str,
    outputs: list[list[dict[str, Any]]],
    media_dir: Path,
    media_href: str,
    meta: dict[str, Any] | None = None,
) -> str:
    """The whole page as pandoc Markdown, cells replaced by their outputs and `meta`
    shortcodes in its text by their values."""
    pieces: list[str] = []
    cell_no, fig_no = 0, 0
    for chunk in page.chunks:
        if isinstance(chunk, str):
            pieces.append(resolve_shortcodes(chunk, meta or {}, page.path))
            continue
        opts = _cell_options(chunk, page, project)
        if (chunk.label or "").startswith("fig-"):
            fig_no += 1
        pieces.append(
            cell_markdown(chunk, opts, outputs[cell_no], fmt, media_dir, media_href, fig_no)
        )
        cell_no += 1
    text = "\n\n".join(pieces)
    return number_tables(text) if fmt.startswith("html") else text


TABLE_CAPTION = re.compile(r"^: (?P<caption>.+?) \{#(?P<label>tbl-[A-Za-z0-9_-]+)\}[ \t]*$", re.M)


def number_tables(markdown: str) -> str:
    """Number labelled table captions ("Table 1: ..."), in page order, as Quarto does.

    Only `: caption {#tbl-x}` captions count, like Quarto's cross-references. Typst numbers
    them itself (pandoc writes a `figure` of kind `table` with the label), so only HTML needs
    the prefix.
    """
    numbers = iter(range(1, markdown.count("{#tbl-") + 1))
    return TABLE_CAPTION.sub(
        lambda m: f": Table {next(numbers)}: {m['caption']} {{#{m['label']}}}", markdown
    )


def relocated(path: Path, project: Project) -> Path:
    """A metadata file under `data/processed/`, moved with BRIEFING_PROCESSED_DIR.

    Tests and side-by-side builds write their tables elsewhere; the edition stamp must come
    from those tables, not from whatever the default folder holds.
    """
    processed = os.environ.get("BRIEFING_PROCESSED_DIR")
    default = project.root / "data" / "processed"
    if processed and default in path.parents:
        return Path(processed) / path.relative_to(default)
    return path


def _metadata(project: Project, page: Page, fmt: str, fmt_opts: dict[str, Any]) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    for path in project.metadata_files:
        path = relocated(path, project)
        if path.is_file():
            meta.update(yaml.safe_load(path.read_text(encoding="utf-8")) or {})
    meta.update({k: v for k, v in page.front_matter.items() if k not in ("format", "execute")})
    meta.update({k: v for k, v in fmt_opts.items() if k in ("toc", "toc-title", "lang")})
    meta.setdefault("toc-title", TOC_TITLES[fmt])
    return meta


def _write_meta(meta: dict[str, Any], workdir: Path, name: str) -> Path:
    path = workdir / f"{name}.meta.yml"
    path.write_text(yaml.safe_dump(meta, allow_unicode=True, sort_keys=True), encoding="utf-8")
    return path


def _output_path(project: Project, page: Page, out_dir: Path, name: str) -> Path:
    rel = page.path.parent.relative_to(project.root)
    return out_dir / rel / name


def render_html(
    page: Page,
    project: Project,
    markdown: str,
    fmt_opts: dict[str, Any],
    out_dir: Path,
    workdir: Path,
    extra_meta: dict[str, Any],
) -> Path:
    """Write the page as HTML with the site template and the `_quarto.yml` navigation."""
    target = _output_path(project, page, out_dir, page.path.with_suffix(".html").name)
    target.parent.mkdir(parents=True, exist_ok=True)
    page_dir = page.path.parent
    nav = []
    for item in project.navigation:
        src = project.root / item.href
        href = os.path.relpath(src.with_suffix(".html"), page_dir).replace(os.sep, "/")
        nav.append(
            {"text": item.text, "href": href, "active": src.resolve() == page.path.resolve()}
        )
    meta = _metadata(project, page, "html", fmt_opts)
    meta.update(extra_meta)
    meta.update(
        {
            "site-title": project.site_title,
            "nav": nav,
            "css": stylesheets(project, page, fmt_opts, out_dir),
            "site-root": os.path.relpath(project.root, page_dir).replace(os.sep, "/"),
        }
    )
    meta_file = _write_meta(meta, workdir, f"{page.path.stem}-html")
    args = [
        "--standalone",
        f"--template={TEMPLATES / 'site.html'}",
        f"--metadata-file={meta_file}",
        f"--lua-filter={CONDITIONAL_FILTER}",
        "--section-divs",
        "--wrap=none",
    ]
    if fmt_opts.get("toc"):
        args.append("--toc")
    pandoc(markdown, "html5", target, args, page, project)
    return target


def stylesheets(project: Project, page: Page, fmt_opts: dict[str, Any], out_dir: Path) -> list[str]:
    """`format: html: css:` from `_quarto.yml`, copied into the site at the same project-relative
    path (as Quarto does) and linked relative to the page."""
    listed = fmt_opts.get("css") or []
    hrefs = []
    for rel in [listed] if isinstance(listed, str) else listed:
        src = project.root / str(rel)
        if not src.is_file():
            raise InputError(
                f"stylesheet {rel!r} (format: html: css) does not exist",
                project.root / "_quarto.yml",
            )
        target = out_dir / str(rel)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, target)
        hrefs.append(os.path.relpath(src, page.path.parent).replace(os.sep, "/"))
    return hrefs


def format_links(fmt_opts: dict[str, Any], pdf_name: str | None) -> list[dict[str, str]]:
    """The "Other Formats" links of an HTML page, as Quarto makes them: the page's PDF is
    labelled "Typst" (Quarto's name for the format) unless `format-links` says otherwise
    (`false`; format names; or `{text, href}` links, followed by the formats when no name is
    listed)."""
    own = [{"text": "Typst", "href": pdf_name}] if pdf_name else []
    links = fmt_opts.get("format-links", True)
    if links is False:
        return []
    if links is True or links is None:
        return own
    listed = links if isinstance(links, list) else [links]
    out = [
        {"text": str(link["text"]), "href": str(link["href"])}
        for link in listed
        if isinstance(link, dict) and "text" in link and "href" in link
    ]
    if "typst" in listed or not any(isinstance(link, str) for link in listed):
        out += own
    return out


def render_pdf(
    page: Page,
    project: Project,
    markdown: str,
    fmt_opts: dict[str, Any],
    out_dir: Path,
    workdir: Path,
    extra_meta: dict[str, Any],
) -> Path:
    """Write the page as Typst with the print template and compile it to PDF.

    The document date is pinned to the edition's as-of date so rebuilding the same edition
    gives the same PDF bytes.
    """
    name = str(fmt_opts.get("output-file") or page.path.with_suffix(".pdf").name)
    target = _output_path(project, page, out_dir, name)
    target.parent.mkdir(parents=True, exist_ok=True)
    meta = _metadata(project, page, "typst", fmt_opts)
    meta.update(extra_meta)
    meta_file = _write_meta(meta, workdir, f"{page.path.stem}-typst")
    typ = workdir / f"{page.path.stem}.typ"
    template = typst_template(page, fmt_opts, workdir)
    args = [
        "--standalone",
        f"--template={template}",
        f"--metadata-file={meta_file}",
        f"--lua-filter={CONDITIONAL_FILTER}",
        "--wrap=none",
    ]
    if fmt_opts.get("toc"):
        args.append("--toc")
    pandoc(markdown, "typst", typ, args, page, project)
    compile_pdf(typ, target, workdir, meta.get("as-of"), page_name(page, project))
    return target


def pandoc(
    markdown: str, to: str, target: Path, args: list[str], page: Page, project: Project
) -> None:
    """Convert with pandoc; its complaint becomes a RenderError naming the page."""
    try:
        with timing.step("pandoc"):
            pypandoc.convert_text(
                markdown, to, format="markdown", outputfile=str(target), extra_args=args
            )
    except (RuntimeError, OSError) as exc:  # pypandoc reports pandoc's exit as RuntimeError
        fmt = "typst" if to == "typst" else "html"
        raise RenderError(
            page_name(page, project),
            "pandoc failed",
            str(exc) or type(exc).__name__,
            fmt=fmt,
            details=str(exc),
        ) from exc


def compile_pdf(typ: Path, target: Path, workdir: Path, as_of: Any, page: str) -> None:
    """Compile the Typst file to PDF, dated by the as-of day; a missing font is an error.

    Typst only warns about a font family it cannot find and sets the text in another font, so
    the PDF would silently look wrong. When every family of one `font:` list is missing, the
    build stops instead.
    """
    import typst

    stamp = None
    if as_of:
        day = dt.date.fromisoformat(str(as_of))
        stamp = int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp())
    try:
        with timing.step("typst"):
            _, warnings = typst.compile_with_warnings(
                str(typ),
                output=str(target),
                root=str(workdir.parent if workdir.parent else workdir),
                font_paths=font_paths(),
                timestamp=stamp,
            )
    except Exception as exc:  # typst raises its own error type with the compiler's message
        where = TYPST_LOCATION.search(str(getattr(exc, "diagnostic", "")) or "")
        cause = str(getattr(exc, "message", "") or exc)
        if where:
            cause += f" at {Path(where[1]).name}:{where[2]}"
        details = str(getattr(exc, "diagnostic", "") or exc)
        raise RenderError(
            page, "Typst could not compile the PDF", cause, fmt="typst", details=details
        ) from exc
    missing = missing_fonts(typ.read_text(encoding="utf-8"), [str(w) for w in warnings])
    if missing:
        target.unlink(missing_ok=True)
        raise RenderError(
            page,
            "font missing",
            f"Typst found no font of the list {', '.join(missing)}; install one "
            "(`make system-deps` installs the briefing's fonts)",
            fmt="typst",
        )


TYPST_LOCATION = re.compile(r"─ (\S+):(\d+):(\d+)")
FONT_LIST = re.compile(r"\bfont:\s*(\([^)]*\)|\"[^\"]*\")")


def missing_fonts(source: str, warnings: list[str]) -> list[str]:
    """The families of the first `font:` setting in `source` of which Typst found none."""
    unknown = {
        w.split(":", 1)[1].strip().lower()
        for w in warnings
        if w.lower().startswith("unknown font family:")
    }
    for match in FONT_LIST.finditer(source):
        families = re.findall(r'"([^"]+)"', match[1])
        if families and all(f.lower() in unknown for f in families):
            return [f'"{f}"' for f in families]
    return []


TYPST_PARTIALS = ("definitions.typ", "typst-template.typ", "typst-show.typ")


def typst_template(page: Page, fmt_opts: dict[str, Any], workdir: Path) -> Path:
    """Assemble the Typst template the way Quarto does: a fixed skeleton whose partials
    (`typst-template.typ`, `typst-show.typ`) the page may replace through `template-partials`.

    Pandoc looks partials up beside the template, so skeleton and partials are copied into
    one folder per page.
    """
    folder = workdir / f"{page.path.stem}-typst-template"
    shutil.copytree(TEMPLATES / "typst", folder, dirs_exist_ok=True)  # skeleton + default partials
    partials = fmt_opts.get("template-partials") or []
    if isinstance(partials, str):
        partials = [partials]
    for rel in partials:
        src = (page.path.parent / str(rel)).resolve()
        if not src.is_file():
            raise InputError(
                f"template partial {rel!r} listed in the front matter does not exist",
                page.path,
                fix=f"create {src} or remove it from format.typst.template-partials",
            )
        if src.name not in TYPST_PARTIALS[1:]:
            raise InputError(
                f"template partial {rel!r} is not one the built-in renderer knows "
                f"({', '.join(TYPST_PARTIALS[1:])})",
                page.path,
            )
        shutil.copy(src, folder / src.name)
    return folder / "template.typ"


def font_paths() -> list[str]:
    """System font folders, so the PDF embeds real fonts (CJK included where installed)."""
    return [p for p in ("/usr/share/fonts", "/usr/local/share/fonts") if Path(p).is_dir()]


def run_scripts(
    commands: list[str],
    project: Project,
    out_dir: Path,
    inputs: list[Path],
    outputs: list[Path],
    stage: str = "post-render",
) -> None:
    """Run `pre-render`/`post-render` commands with the variables Quarto gives them."""
    env = dict(os.environ)
    env.update(
        {
            "QUARTO_PROJECT_DIR": str(project.root),
            "QUARTO_PROJECT_ROOT": str(project.root),
            "QUARTO_PROJECT_OUTPUT_DIR": str(out_dir),
            "QUARTO_PROJECT_RENDER_ALL": "1",
            "QUARTO_PROJECT_INPUT_FILES": "\n".join(str(p) for p in inputs),
            "QUARTO_PROJECT_OUTPUT_FILES": "\n".join(str(p) for p in outputs),
            ENGINE_VARIABLE: "builtin",
            "PYTHONPATH": os.pathsep.join(
                filter(None, [str(project.root), PACKAGE_ROOT, os.environ.get("PYTHONPATH")])
            ),
        }
    )
    for command in commands:
        argv = shlex.split(command)
        if argv and argv[0] in ("python", "python3"):
            argv[0] = sys.executable  # the project's interpreter, as QUARTO_PYTHON would give
        elif argv and argv[0].endswith(".py"):
            argv = [sys.executable, *argv]
        try:
            result = subprocess.run(argv, cwd=project.root, env=env, capture_output=True, text=True)
        except OSError as exc:
            raise RenderError(
                "_quarto.yml", f"{stage} script {command!r} did not start", str(exc)
            ) from exc
        if result.returncode != 0:
            said = said_why(result.stderr) or last_line(result.stdout)
            raise RenderError(
                "_quarto.yml",
                f"{stage} script {command!r} failed",
                f"exit code {result.returncode}" + (f": {said}" if said else ""),
                details=f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}",
            )
        if result.stdout.strip():
            print(result.stdout.strip())


def render_project(
    root: Path,
    out_dir: Path | None = None,
    log: Any = print,
    only: list[str] | None = None,
    cache: Cache | None = None,
    kernels: KernelSpace | None = None,
) -> list[RenderedPage]:
    """Render every page of the project (or the `only` ones, project-relative) into `out_dir`
    (default: the project's output-dir), like `quarto render [FILE]`.

    Pages are rendered in order; each format of a page gets its own kernel run, since cells may
    emit different outputs per format. With a `cache` folder, cells whose reads are unchanged
    reuse their last outputs (`pipeline.render.freeze`). `kernels` is a kernel space the
    caller opened (and closes), maybe holding kernels started early (`start_likely_kernels`).
    """
    project = read_project(root)
    out_dir = out_dir or project.output_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    for p in project.pages:
        if not p.is_file():
            raise InputError("page listed in _quarto.yml project.render does not exist", p)
    chosen = [p for p in project.pages if only is None or p.relative_to(root).as_posix() in only]
    pages = [parse_qmd(p) for p in chosen]
    run_scripts(project.pre_render, project, out_dir, project.pages, [], "pre-render")
    rendered: list[RenderedPage] = []
    with contextlib.ExitStack() as stack:
        tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="render-", dir=out_dir.parent))
        if kernels is None:
            kernels = stack.enter_context(kernel_space())
        # Known up front, so each kernel can start while the page before it runs.
        kernels.expect(
            [
                kernel_request(page, project, fmt, kernels.folder, codes)
                for page in pages
                for fmt in page_formats(page, project)
                if (codes := kernel_codes(page, project, fmt, cache))
            ]
        )
        for page in pages:
            rendered.append(render_page(page, project, out_dir, Path(tmp), kernels, log, cache))
    t0 = dt.datetime.now()
    run_scripts(
        project.post_render,
        project,
        out_dir,
        project.pages,
        [p for r in rendered for p in r.outputs],
    )
    if project.post_render:
        log(f"  post-render in {(dt.datetime.now() - t0).total_seconds():.1f}s")
    return rendered


def start_likely_kernels(root: Path, kernels: KernelSpace, env: Mapping[str, str]) -> None:
    """Start the kernels of the project's first pages with cells before the tables are built.

    Which cells must run is known only once the tables are (the cache compares their reads),
    so these are the requests as they will be if the page runs any cell and the environment
    is `env`: the render's own, with the last edition's as-of date. The render then keeps the
    kernels its pages do ask for and stops the others (`KernelSpace.expect`).
    """
    project = read_project(root)
    requests = [
        kernel_request(page, project, fmt, kernels.folder, _probed_codes(page, all_cells)[0], env)
        for page in (parse_qmd(p) for p in project.pages if p.is_file())
        if (all_cells := list(range(len(page.cells))))
        for fmt in page_formats(page, project)
        if fmt in ("html", "typst")
    ]
    kernels.upcoming = requests
    kernels.start_next()
    kernels.upcoming = []


def render_page(
    page: Page,
    project: Project,
    out_dir: Path,
    workdir: Path,
    kernels: KernelSpace,
    log: Any,
    cache: Cache | None = None,
) -> RenderedPage:
    """Every format of one page: run its cells per format, then write HTML or the PDF."""
    outputs: list[Path] = []
    formats = page_formats(page, project)
    pdf_name = None
    if "typst" in formats:
        pdf_name = str(formats["typst"].get("output-file") or page.path.with_suffix(".pdf").name)
    for fmt, opts in formats.items():
        if fmt not in ("html", "typst"):
            raise InputError(
                f"format {fmt!r} is not supported by the built-in renderer (html and typst are)",
                page.path,
            )
        t0 = dt.datetime.now()
        timing.take()  # this page and format's steps only
        cell_outputs, reused = execute_page(page, project, fmt, workdir, kernels, cache)
        meta = _metadata(project, page, fmt, opts)  # what `{{< meta key >}}` reads
        if fmt == "html":
            media = _output_path(project, page, out_dir, f"{page.path.stem}_files")
            media.mkdir(parents=True, exist_ok=True)
            md = page_markdown(page, project, fmt, cell_outputs, media, media.name, meta)
            extra = {"other-formats": format_links(opts, pdf_name)}
            outputs.append(render_html(page, project, md, opts, out_dir, workdir, extra))
        else:
            media = workdir / f"{page.path.stem}_media"
            media.mkdir(parents=True, exist_ok=True)
            md = page_markdown(page, project, fmt, cell_outputs, media, media.name, meta)
            outputs.append(render_pdf(page, project, md, opts, out_dir, workdir, {}))
        kept = f", {reused} of {len(page.cells)} cells from the cache" if cache else ""
        steps = timing.summary(timing.take())
        log(
            f"  rendered {page_name(page, project)} -> {fmt} "
            f"in {(dt.datetime.now() - t0).total_seconds():.1f}s"
            f"{f' ({steps})' if steps else ''}{kept}"
        )
    return RenderedPage(page.path, outputs)
