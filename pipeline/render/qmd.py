"""Reading Quarto sources: `_quarto.yml` and `.qmd` pages.

The built-in renderer needs the same view of a project that Quarto has: which pages to render,
the navigation, the formats, the metadata files, and each page's front matter, markdown and
Python cells with their `#|` options. Only the subset listed in docs/rendering.md is read;
anything else in the sources is left for real Quarto and ignored here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from pipeline.errors import InputError

_FENCE_OPEN = re.compile(r"^(`{3,})\{python\b[^}]*\}\s*$")
_OPTION = re.compile(r"^#\|\s?(.*)$")


@dataclass
class Cell:
    """One executable Python cell: its code without the option lines, and the options."""

    code: str
    options: dict[str, Any]
    line: int  # 1-based line of the opening fence, for error messages

    @property
    def label(self) -> str | None:
        label = self.options.get("label")
        return str(label) if label else None


@dataclass
class Page:
    """A parsed `.qmd`: front matter, and the body as markdown text interleaved with cells."""

    path: Path
    front_matter: dict[str, Any]
    chunks: list[str | Cell] = field(default_factory=list)

    @property
    def cells(self) -> list[Cell]:
        return [c for c in self.chunks if isinstance(c, Cell)]


def _load_yaml(text: str, path: Path, line: int = 1) -> dict[str, Any]:
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = line + (mark.line if mark is not None else 0)
        raise InputError(f"invalid YAML: {getattr(exc, 'problem', exc)}", path, at) from None
    if not isinstance(data, dict):
        raise InputError("YAML must be a mapping of keys to values", path, line)
    return data


def parse_qmd(path: Path) -> Page:
    """Split a `.qmd` file into front matter, markdown chunks and Python cells."""
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    front: dict[str, Any] = {}
    start = 0
    if lines and lines[0].strip() == "---":
        for i in range(1, len(lines)):
            if lines[i].strip() in ("---", "..."):
                front = _load_yaml("\n".join(lines[1:i]), path, 2)
                start = i + 1
                break
        else:
            raise InputError("front matter opened with --- but never closed", path, 1)

    page = Page(path=path, front_matter=front)
    buf: list[str] = []
    i = start
    while i < len(lines):
        m = _FENCE_OPEN.match(lines[i])
        if not m:
            buf.append(lines[i])
            i += 1
            continue
        fence, open_line = m.group(1), i + 1
        body: list[str] = []
        i += 1
        while i < len(lines) and lines[i].strip() != fence:
            body.append(lines[i])
            i += 1
        if i >= len(lines):
            raise InputError("code cell is never closed", path, open_line)
        i += 1  # skip closing fence
        option_lines = []
        while body and _OPTION.match(body[0]):
            option_lines.append(_OPTION.match(body.pop(0)).group(1))  # type: ignore[union-attr]
        options = _load_yaml("\n".join(option_lines), path, open_line + 1) if option_lines else {}
        if buf:
            page.chunks.append("\n".join(buf))
            buf = []
        page.chunks.append(Cell(code="\n".join(body), options=options, line=open_line))
    if buf:
        page.chunks.append("\n".join(buf))
    return page


@dataclass
class NavItem:
    text: str
    href: str  # project-relative source path, e.g. report/index.qmd


@dataclass
class Project:
    """What the renderer needs from `_quarto.yml`."""

    root: Path
    config: dict[str, Any]

    @property
    def output_dir(self) -> Path:
        return self.root / self.config.get("project", {}).get("output-dir", "_site")

    @property
    def execute_dir_is_project(self) -> bool:
        return self.config.get("project", {}).get("execute-dir", "file") == "project"

    @property
    def pages(self) -> list[Path]:
        listed = self.config.get("project", {}).get("render")
        if listed:
            return [self.root / p for p in listed]
        return sorted(p for p in self.root.rglob("*.qmd") if not p.name.startswith("_"))

    @property
    def site_title(self) -> str:
        return str(self.config.get("website", {}).get("title", ""))

    @property
    def navigation(self) -> list[NavItem]:
        navbar = self.config.get("website", {}).get("navbar", {})
        items = []
        for entry in navbar.get("left", []) + navbar.get("right", []):
            if isinstance(entry, str):
                items.append(NavItem(text=Path(entry).stem, href=entry))
            else:
                items.append(
                    NavItem(text=str(entry.get("text", entry["href"])), href=entry["href"])
                )
        return items

    @property
    def metadata_files(self) -> list[Path]:
        return [self.root / p for p in self.config.get("metadata-files", [])]

    @property
    def post_render(self) -> list[str]:
        scripts = self.config.get("project", {}).get("post-render", [])
        return [scripts] if isinstance(scripts, str) else list(scripts)

    @property
    def pre_render(self) -> list[str]:
        scripts = self.config.get("project", {}).get("pre-render", [])
        return [scripts] if isinstance(scripts, str) else list(scripts)

    def format_options(self, fmt: str) -> dict[str, Any]:
        formats = self.config.get("format", {})
        opts = formats.get(fmt) if isinstance(formats, dict) else None
        return opts if isinstance(opts, dict) else {}


def read_project(root: Path) -> Project:
    """Load `_quarto.yml` from `root`."""
    path = root / "_quarto.yml"
    if not path.is_file():
        raise InputError("no _quarto.yml here", path, fix="run from the project's top folder")
    config = _load_yaml(path.read_text(encoding="utf-8"), path)
    kind = (config.get("project") or {}).get("type", "website")
    if kind != "website":
        raise InputError(
            f"project type {kind!r} is not supported by the built-in renderer",
            path,
            fix="use `project: type: website` (see docs/rendering.md)",
        )
    return Project(root=root, config=config)


def page_formats(page: Page, project: Project) -> dict[str, dict[str, Any]]:
    """Formats a page renders to, with options merged from the project and the page.

    A page's `format:` wins; without one, the project's first format (HTML) is used, as Quarto
    does for website pages.
    """
    declared = page.front_matter.get("format")
    if not declared:
        declared = {"html": "default"}
    if isinstance(declared, str):
        declared = {declared: "default"}
    merged: dict[str, dict[str, Any]] = {}
    for name, opts in declared.items():
        base = dict(project.format_options(name))
        if isinstance(opts, dict):
            base.update(opts)
        merged[name] = base
    return merged
