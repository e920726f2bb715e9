"""The PDF briefing as a reader sees it: every page rasterised, and no figure left blank.

`pdftoppm` (poppler-utils) turns each page into an image; `pdftotext` says which pages hold a
figure (their caption reads "Figure N:") and where the text sits. In the band above each
caption, ink outside the text boxes is what the figure *draws*: lines, points, bars, axes.
A figure whose SVG came out empty has its caption but no drawn ink; one whose data marks are
missing still has grey axes but nothing in colour. Both fail here, though the text is all
present. No imaging library is needed: PGM and PPM images are read directly.

PNG copies of the pages go to test-artifacts/pdf-pages/ for a human look.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

import pytest
from site_fixtures import artifacts_dir

DPI = 40  # enough to see strokes; a 15-page PDF rasterises in well under a second
DARK = 200  # grey level below which a pixel counts as ink (0 black, 255 white)
COLOURED = 60  # spread of R, G, B above which a pixel counts as coloured
# A figure sits above its caption ("Figure N: ..."). In the band of this height above each
# caption, the share of dark pixels outside text boxes (lines, points, bars, axes) must
# reach MIN_FIGURE_INK; an empty figure, with or without its labels, leaves none.
FIGURE_BAND_PT = 140.0  # about 5 cm: the height of a small chart
MIN_FIGURE_INK = 0.005
# Data marks are drawn in the palette's colours, axes and text in greys: a chart whose marks
# are missing but whose axes drew still fails this. A one-line chart leaves about 0.005.
MIN_FIGURE_COLOUR = 0.001
FIGURE_CAPTION = re.compile(r"\bFigure\s+\d+\s*:")

MISSING = [tool for tool in ("pdftoppm", "pdftotext") if shutil.which(tool) is None]
pytestmark = pytest.mark.skipif(
    bool(MISSING),
    reason=f"{', '.join(MISSING)} missing: `apt-get install -y poppler-utils` (make test does it)",
)


@dataclass
class FigureInk:
    """In the band above one caption, outside text boxes: shares of dark and coloured pixels."""

    drawn: float
    coloured: float


@dataclass
class PageInk:
    number: int  # 1-based
    text: str
    ink: float  # share of the page's pixels that are dark
    figures: list[FigureInk]  # one per "Figure N:" caption on the page

    @property
    def has_figure(self) -> bool:
        return FIGURE_CAPTION.search(self.text) is not None


def page_texts(pdf: Path) -> list[str]:
    """The text of each page, in order."""
    out = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    pages = out.split("\f")
    return pages[:-1] if pages and not pages[-1].strip() else pages


Box = tuple[float, float, float, float]


def text_boxes(pdf: Path, workdir: Path) -> list[tuple[float, float, list[tuple[str, Box]]]]:
    """Per page: width and height in points, and every word with its box."""
    html = workdir / "bbox.html"
    subprocess.run(["pdftotext", "-bbox", str(pdf), str(html)], check=True, capture_output=True)
    ns = "{http://www.w3.org/1999/xhtml}"
    root = ElementTree.parse(html).getroot()
    pages = []
    for page in root.iter(f"{ns}page"):
        words = [
            (
                w.text or "",
                tuple(float(w.get(k, "0")) for k in ("xMin", "yMin", "xMax", "yMax")),
            )
            for w in page.iter(f"{ns}word")
        ]
        pages.append((float(page.get("width", "0")), float(page.get("height", "0")), words))
    return pages


def read_pnm(path: Path) -> tuple[int, int, bytes]:
    """Width, height and pixels of a binary 8-bit PGM (P5, grey) or PPM (P6, RGB) file."""
    data = path.read_bytes()
    fields: list[bytes] = []
    pos = 0
    while len(fields) < 4:
        while data[pos : pos + 1].isspace():
            pos += 1
        if data[pos : pos + 1] == b"#":  # comment to end of line
            pos = data.index(b"\n", pos) + 1
            continue
        end = pos
        while not data[end : end + 1].isspace():
            end += 1
        fields.append(data[pos:end])
        pos = end
    magic, width, height, maxval = fields[0], int(fields[1]), int(fields[2]), int(fields[3])
    channels = {b"P5": 1, b"P6": 3}.get(magic)
    if channels is None or maxval > 255:
        raise ValueError(f"{path}: not an 8-bit binary PGM or PPM")
    pixels = data[pos + 1 : pos + 1 + width * height * channels]
    return width, height, pixels


def dark_count(pixels: bytes | bytearray) -> int:
    """Pixels darker than DARK; `translate` deletes them, so the length difference counts them."""
    return len(pixels) - len(bytes(pixels).translate(None, bytes(range(DARK))))


def colour_count(rgb: bytes | bytearray) -> int:
    """Pixels that are clearly coloured (not white, grey or black): the spread of R, G and B."""
    return sum(
        1
        for r, g, b in zip(rgb[0::3], rgb[1::3], rgb[2::3], strict=True)
        if max(r, g, b) - min(r, g, b) > COLOURED
    )


def mask_boxes(
    pixels: bytes, width: int, height: int, boxes: list[Box], scale: float, channels: int = 1
) -> bytearray:
    """A copy of the page with every text box painted white (one pixel of margin)."""
    out = bytearray(pixels)
    stride = width * channels
    for x0, y0, x1, y1 in boxes:
        left, right = max(0, int(x0 * scale) - 1), min(width, int(x1 * scale) + 2)
        top, bottom = max(0, int(y0 * scale) - 1), min(height, int(y1 * scale) + 2)
        if right <= left:
            continue
        white = b"\xff" * ((right - left) * channels)
        for row in range(top, bottom):
            start = row * stride + left * channels
            out[start : start + len(white)] = white
    return out


def _rasterise(pdf: Path, prefix: Path, gray: bool) -> list[Path]:
    args = ["pdftoppm", *(["-gray"] if gray else []), "-r", str(DPI), str(pdf), str(prefix)]
    subprocess.run(args, check=True, capture_output=True)
    images = prefix.parent.glob(f"{prefix.name}-*.{'pgm' if gray else 'ppm'}")
    return sorted(images, key=lambda p: int(p.stem.rsplit("-", 1)[1]))


def measure(pdf: Path, workdir: Path) -> list[PageInk]:
    """Ink of every page of `pdf`, and drawn and coloured ink above each figure caption."""
    workdir.mkdir(parents=True, exist_ok=True)
    grays = _rasterise(pdf, workdir / "gray", gray=True)
    colours = _rasterise(pdf, workdir / "colour", gray=False)
    texts = page_texts(pdf)
    boxes = text_boxes(pdf, workdir)
    if not len(grays) == len(colours) == len(texts) == len(boxes):
        raise AssertionError(f"{len(grays)} images, {len(texts)} texts, {len(boxes)} box pages")
    pages = []
    for n, (gray, colour, text, (w_pt, _, words)) in enumerate(
        zip(grays, colours, texts, boxes, strict=True), start=1
    ):
        width, height, pixels = read_pnm(gray)
        page = PageInk(n, text, dark_count(pixels) / (width * height), [])
        tops = caption_tops(words)
        if tops:
            scale = width / w_pt
            text_free = [box for _, box in words]
            drawn = mask_boxes(pixels, width, height, text_free, scale)
            rgb = mask_boxes(read_pnm(colour)[2], width, height, text_free, scale, channels=3)
            band = int(FIGURE_BAND_PT * scale)
            for top in tops:
                y1 = max(0, int(top * scale) - 1)
                y0 = max(0, y1 - band)
                if y1 <= y0:
                    continue
                area = (y1 - y0) * width
                page.figures.append(
                    FigureInk(
                        drawn=dark_count(drawn[y0 * width : y1 * width]) / area,
                        coloured=colour_count(rgb[y0 * width * 3 : y1 * width * 3]) / area,
                    )
                )
        pages.append(page)
    return pages


def caption_tops(words: list[tuple[str, Box]]) -> list[float]:
    """Top edge (points) of every "Figure N:" caption on a page, from the word boxes."""
    return [
        box[1]
        for (word, box), (following, _) in zip(words, words[1:], strict=False)
        if word == "Figure" and re.fullmatch(r"\d+:", following)
    ]


@pytest.fixture(scope="module")
def pages(pdf_path: Path, tmp_path_factory: pytest.TempPathFactory) -> list[PageInk]:
    return measure(pdf_path, tmp_path_factory.mktemp("pdf-pages"))


def test_pages_as_png_artifacts(pdf_path: Path) -> None:
    out = artifacts_dir() / "pdf-pages"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir()
    subprocess.run(
        ["pdftoppm", "-png", "-r", "50", str(pdf_path), str(out / "page")],
        check=True,
        capture_output=True,
    )
    pngs = sorted(out.glob("page-*.png"))
    assert len(pngs) == len(page_texts(pdf_path)) > 0
    assert all(p.stat().st_size > 0 for p in pngs)


def test_no_page_is_blank(pages: list[PageInk]) -> None:
    blank = [p.number for p in pages if p.ink == 0]
    assert not blank, f"blank pages: {blank}"


def test_every_figure_has_drawn_content(pages: list[PageInk]) -> None:
    figures = [(p.number, f) for p in pages for f in p.figures]
    assert figures, "no page of the PDF has a figure caption ('Figure N:')"
    assert len(figures) >= sum(p.has_figure for p in pages)
    empty = [f"page {n}: {f.drawn:.4f}" for n, f in figures if f.drawn < MIN_FIGURE_INK]
    assert not empty, f"figures with (almost) nothing drawn (< {MIN_FIGURE_INK}): {empty}"


def test_every_figure_shows_coloured_marks(pages: list[PageInk]) -> None:
    """Axes and labels are grey; the data marks carry the palette's colours."""
    figures = [(p.number, f) for p in pages for f in p.figures]
    assert figures, "no page of the PDF has a figure caption ('Figure N:')"
    bare = [f"page {n}: {f.coloured:.4f}" for n, f in figures if f.coloured < MIN_FIGURE_COLOUR]
    assert not bare, f"figures without coloured marks (< {MIN_FIGURE_COLOUR}): {bare}"


# ---- the checks tell an empty figure, bare axes and a drawn chart apart ------------------

FIGURE_PAGE = """#set page(paper: "a4")
= A page with a figure
Text above the figure, as on a briefing page.
#figure(box(width: 80%, height: 6cm, BODY), caption: [A chart])
"""
LINES = "stack(spacing: 0.5cm, ..range(10).map(i => line(length: 100% - i * 8%, stroke: STROKE)))"


@pytest.mark.parametrize(
    ("body", "drawn", "coloured"),
    [
        ("[]", False, False),  # the SVG came out empty
        (LINES.replace("STROKE", "1pt + luma(40)"), True, False),  # axes only, no data marks
        (LINES.replace("STROKE", '1.5pt + rgb("#0072B2")'), True, True),  # a drawn chart
    ],
)
def test_ink_measures_tell_figures_apart(
    tmp_path: Path, body: str, drawn: bool, coloured: bool
) -> None:
    import typst

    typ = tmp_path / "page.typ"
    typ.write_text(FIGURE_PAGE.replace("BODY", body), encoding="utf-8")
    pdf = tmp_path / "page.pdf"
    typst.compile(str(typ), output=str(pdf))
    (page,) = measure(pdf, tmp_path / "pages")
    assert page.has_figure and page.ink > 0  # the caption and heading are there either way
    (figure,) = page.figures
    assert (figure.drawn >= MIN_FIGURE_INK) is drawn, figure
    assert (figure.coloured >= MIN_FIGURE_COLOUR) is coloured, figure


def test_read_pnm_handles_comments(tmp_path: Path) -> None:
    path = tmp_path / "x.pgm"
    path.write_bytes(b"P5\n# made by hand\n3 2\n255\n" + bytes([0, 255, 10, 255, 255, 199]))
    width, height, pixels = read_pnm(path)
    assert (width, height) == (3, 2)
    assert dark_count(pixels) == 3
    assert colour_count(bytes([255, 0, 0, 128, 128, 128, 0, 114, 178])) == 2
