"""The sources use only what both engines support (issue 14).

docs/rendering.md lists, in tables, every `_quarto.yml` key, front-matter key, cell option,
raw-block format, cross-reference prefix and piece of Quarto syntax the built-in renderer
implements. Real Quarto cannot run here, so this contract is what keeps the two engines in step:
the test parses `_quarto.yml` and every `.qmd` and fails on anything the list lacks, and each
row must name the file of the built-in renderer that implements it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import yaml

from pipeline.config import PROJECT_ROOT
from pipeline.render.qmd import Page, parse_qmd

DOC = PROJECT_ROOT / "docs" / "rendering.md"
SECTIONS = {
    "project": "`_quarto.yml` keys",
    "front-matter": "Front-matter keys",
    "cell": "Cell options",
    "raw": "Raw-block formats",
    "crossref": "Cross-reference prefixes",
    "syntax": "Markdown syntax",
}
# Quarto's cross-reference kinds: a label with one of these prefixes is a numbered float.
QUARTO_CROSSREF = {"fig", "tbl", "lst", "eq", "sec", "thm", "lem", "cor", "prp", "cnj", "def"}
QUARTO_CROSSREF |= {"exm", "exr", "sol", "rem", "alg"}
# Quarto-only syntax the built-in renderer would pass through as text (or drop). Shortcodes
# and conditional divs are named by what they use ("shortcode meta", "content-visible
# when-format"), since the built-in renderer implements some of each and not the rest.
SHORTCODE = re.compile(r"(?<!\{)\{\{<\s*([\w-]+)")  # `{{{< x >}}}` is Quarto's escape: text
CONDITIONAL = re.compile(r"\.(content-visible|content-hidden)\b([^}\n]*)")
CONDITION = re.compile(r"\b((?:when|unless)-[\w-]+)=")
QUARTO_SYNTAX = {
    "inline-code": re.compile(r"`\{(python|r|julia|ojs)\}"),
    "callout": re.compile(r"\.callout(-\w+)?\b"),
    "tabset": re.compile(r"\.panel-tabset\b"),
    "crossref-reference": re.compile(r"(?<![\w.@])@(" + "|".join(sorted(QUARTO_CROSSREF)) + r")-"),
}
RAW_BLOCK = re.compile(r"\{\{?=([A-Za-z0-9_-]+)\}\}?")  # ```{=html}, or {{=html}} in an f-string
ID_ATTR = re.compile(r"\{\{?#([A-Za-z]+)-")  # {#tbl-x}, or {{#tbl-x}} in an f-string


def doc_tables(text: str) -> dict[str, dict[str, str]]:
    """{kind: {name: file that implements it}} from the tables under each `###` heading."""
    found: dict[str, dict[str, str]] = {}
    headings = {title: kind for kind, title in SECTIONS.items()}
    kind = None
    for line in text.splitlines():
        if line.startswith("#"):
            kind = headings.get(line.lstrip("#").strip())
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if kind and line.startswith("|") and len(cells) >= 2 and cells[0].startswith("`"):
            found.setdefault(kind, {})[cells[0].strip("`")] = cells[1].strip("`")
    return found


SUPPORTED = doc_tables(DOC.read_text(encoding="utf-8"))


def leaves(data: object, prefix: str = "") -> set[str]:
    """Dotted key paths of a YAML mapping; items of a list of mappings get `[]`."""
    if isinstance(data, dict):
        out: set[str] = set()
        for key, value in data.items():
            out |= leaves(value, f"{prefix}.{key}" if prefix else str(key))
        return out
    if isinstance(data, list) and any(isinstance(item, dict) for item in data):
        return set().union(*(leaves(item, prefix + "[]") for item in data))
    return {prefix}


def pages() -> list[Page]:
    config = yaml.safe_load((PROJECT_ROOT / "_quarto.yml").read_text(encoding="utf-8"))
    listed = [PROJECT_ROOT / p for p in config["project"]["render"]]
    on_disk = sorted((PROJECT_ROOT / "report").rglob("*.qmd"))
    assert set(on_disk) <= set(listed), "a .qmd that _quarto.yml does not render"
    return [parse_qmd(p) for p in listed]


def markdown_text(page: Page) -> str:
    return "\n".join(c for c in page.chunks if isinstance(c, str))


def emitting_sources() -> str:
    """The code cells call: what it writes into the page is part of the sources too."""
    return "\n".join(
        p.read_text(encoding="utf-8")
        for p in sorted((PROJECT_ROOT / "pipeline" / "briefing").glob("*.py"))
    )


def quarto_syntax(text: str) -> set[str]:
    """The Quarto-only syntax `text` uses, by the names of the syntax table."""
    found = {name for name, pattern in QUARTO_SYNTAX.items() if pattern.search(text)}
    found |= {f"shortcode {name}" for name in SHORTCODE.findall(text)}
    for cls, attrs in CONDITIONAL.findall(text):
        found |= {f"{cls} {c}" for c in CONDITION.findall(attrs)} or {cls}
    return found


def unsupported(used: set[str], kind: str) -> set[str]:
    return used - set(SUPPORTED.get(kind, {}))


def test_the_doc_lists_every_kind() -> None:
    assert set(SUPPORTED) == set(SECTIONS), f"missing tables: {set(SECTIONS) - set(SUPPORTED)}"
    assert "format.html.css" in SUPPORTED["project"]  # the parse found real rows


def test_each_listed_feature_is_implemented_where_the_doc_says() -> None:
    for kind, rows in SUPPORTED.items():
        for name, where in rows.items():
            path = PROJECT_ROOT / where
            assert path.is_file(), f"{kind} {name!r}: {where} does not exist"
            if kind != "syntax":
                word = name.split(".")[-1].removesuffix("[]")
                assert word in path.read_text(encoding="utf-8"), f"{where} never reads {name!r}"


def test_quarto_yml_uses_only_supported_keys() -> None:
    config = yaml.safe_load((PROJECT_ROOT / "_quarto.yml").read_text(encoding="utf-8"))
    assert not unsupported(leaves(config), "project")


def test_front_matter_uses_only_supported_keys() -> None:
    for page in pages():
        bad = unsupported(leaves(page.front_matter), "front-matter")
        assert not bad, f"{page.path.name}: {sorted(bad)}"


def test_cells_use_only_supported_options() -> None:
    for page in pages():
        for cell in page.cells:
            bad = unsupported(set(cell.options), "cell")
            assert not bad, f"{page.path.name}:{cell.line}: {sorted(bad)}"


def test_raw_blocks_use_only_supported_formats() -> None:
    used = set(RAW_BLOCK.findall(emitting_sources()))
    for page in pages():
        used |= set(RAW_BLOCK.findall(markdown_text(page)))
    assert used, "the briefing has raw blocks; the pattern must find them"
    assert not unsupported(used, "raw")


def test_labels_use_only_supported_crossref_prefixes() -> None:
    used = set(ID_ATTR.findall(emitting_sources()))
    for page in pages():
        used |= {c.label.split("-")[0] for c in page.cells if c.label and "-" in c.label}
        used |= set(ID_ATTR.findall(markdown_text(page)))
    assert {"fig", "tbl"} <= used
    assert not unsupported(used & QUARTO_CROSSREF, "crossref")


def test_no_quarto_only_syntax() -> None:
    for page in pages():
        bad = unsupported(quarto_syntax(markdown_text(page)), "syntax")
        assert not bad, f"{page.path.name}: {sorted(bad)}"


@pytest.mark.parametrize(
    ("snippet", "kind"),
    [
        ("See @fig-price-paths.", "crossref-reference"),
        ("{{< include _part.qmd >}}", "shortcode include"),
        ("{{< var version >}}", "shortcode var"),
        ('::: {.content-visible when-meta="draft"}', "content-visible when-meta"),
        ("::: {.callout-note}", "callout"),
        ("Close: `{python} close`", "inline-code"),
    ],
)
def test_the_syntax_check_catches_quarto_only_syntax(snippet: str, kind: str) -> None:
    assert kind in quarto_syntax(snippet)
    assert kind not in SUPPORTED["syntax"]


def test_the_meta_shortcode_and_format_conditions_are_supported() -> None:
    """What the edition stamp uses, and what the built-in renderer implements."""
    snippet = '::: {.content-visible when-format="html"}\n{{< meta edition-line >}}\n:::'
    assert quarto_syntax(snippet) == {"shortcode meta", "content-visible when-format"}
    assert not unsupported(quarto_syntax(snippet), "syntax")
    assert quarto_syntax("{{{< meta edition-line >}}}") == set()  # escaped: plain text


def test_an_unlisted_option_is_caught(tmp_path: Path) -> None:
    page = tmp_path / "x.qmd"
    page.write_text(
        "---\ntitle: x\nbibliography: refs.bib\n---\n\n```{python}\n#| code-fold: true\n1\n```\n"
    )
    parsed = parse_qmd(page)
    assert unsupported(leaves(parsed.front_matter), "front-matter") == {"bibliography"}
    assert unsupported(set(parsed.cells[0].options), "cell") == {"code-fold"}


def test_gitignore_holds_the_lines_quarto_would_add() -> None:
    lines = (PROJECT_ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert "/.quarto/" in lines and "**/*.quarto_ipynb" in lines


def test_post_render_is_a_script_quarto_runs_with_quarto_python() -> None:
    config = yaml.safe_load((PROJECT_ROOT / "_quarto.yml").read_text(encoding="utf-8"))
    scripts = config["project"]["post-render"]
    for script in [scripts] if isinstance(scripts, str) else scripts:
        assert script.endswith(".py") and (PROJECT_ROOT / script).is_file(), script


# The families `make system-deps` installs (fonts-dejavu-core, fonts-noto-cjk).
INSTALLED_FONTS = {"DejaVu Sans", "Noto Sans CJK SC"}


def test_print_templates_name_only_installed_fonts() -> None:
    """Typst warns `unknown font family` for every listed family it lacks (Quarto shows the
    warning), so the templates name only the families the project installs."""
    templates = [*(PROJECT_ROOT / "report").rglob("*.typ")]
    templates += (PROJECT_ROOT / "pipeline" / "templates" / "typst").glob("*.typ")
    named = set()
    for path in templates:
        for fonts in re.findall(r"\bfont:\s*(\([^)]*\)|\"[^\"]*\")", path.read_text()):
            named |= set(re.findall(r'"([^"]+)"', fonts))
    assert named, "no font list found"
    assert named <= INSTALLED_FONTS, sorted(named - INSTALLED_FONTS)


def test_kernel_config_silences_the_tcp_warning(tmp_path: Path) -> None:
    """Quarto starts kernels over TCP; ipykernel then warns once per page. The config that
    `make deps` installs into the venv keeps such kernels to errors only. Here it is loaded
    from a private IPython profile, so the test does not depend on the venv's state."""
    import subprocess

    from jupyter_client.manager import KernelManager

    makefile = (PROJECT_ROOT / "Makefile").read_text(encoding="utf-8")
    assert "scripts/ipython_kernel_config.py $(KERNEL_CONFIG)" in makefile
    assert "KERNEL_CONFIG := $(VENV)/etc/ipython/ipython_kernel_config.py" in makefile

    def kernel_says(ipython_dir: Path) -> str:
        log = tmp_path / f"{ipython_dir.name}.log"
        km = KernelManager(transport="tcp", kernel_name="python3")
        env = dict(os.environ, IPYTHONDIR=str(ipython_dir))
        with open(log, "w") as out:
            km.start_kernel(stdout=out, stderr=subprocess.STDOUT, env=env, extra_arguments=[])
            client = km.client()
            client.start_channels()
            try:
                client.wait_for_ready(timeout=60)
            finally:
                client.stop_channels()
                km.shutdown_kernel(now=True)
        return log.read_text()

    quiet = tmp_path / "quiet"
    (quiet / "profile_default").mkdir(parents=True)
    config = (PROJECT_ROOT / "scripts" / "ipython_kernel_config.py").read_text()
    (quiet / "profile_default" / "ipython_kernel_config.py").write_text(config)
    plain = tmp_path / "plain"
    (plain / "profile_default").mkdir(parents=True)
    (plain / "profile_default" / "ipython_kernel_config.py").write_text(
        "c = get_config()\nc.IPKernelApp.log_level = 'WARN'\n"
    )
    assert "running over TCP" in kernel_says(plain)  # the warning exists...
    assert "running over TCP" not in kernel_says(quiet)  # ...and the config silences it
