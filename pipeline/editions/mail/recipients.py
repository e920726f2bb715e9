"""The recipients file: who gets the briefing, in which language, greeted how.

`stakeholders.csv` has the header `name,email,language` and an optional fourth column
`salutation` (the whole greeting line, e.g. "Liebe Erika,"). Everything is checked before
anything is sent: a bad address, a duplicate, a language code that is not one, or a malformed
line stops the run with an error naming the file and line. A real language with no word
template yet (e.g. `fr`) is not an error: that reader gets English and the CLI says so.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from babel import Locale, UnknownLocaleError

from pipeline.editions.mail.words import DEFAULT_LANGUAGE, supported_languages
from pipeline.errors import InputError

EMAIL = re.compile(r"^[^@\s,;<>\"]+@[^@\s,;<>\"]+\.[^@\s,;<>\"]+$")
REQUIRED_COLUMNS = ("name", "email", "language")
OPTIONAL_COLUMNS = ("salutation",)


@dataclass(frozen=True)
class Recipient:
    name: str
    email: str
    language: str  # a language with a word template: the one the message is written in
    asked: str = ""  # the language the file asked for, when it fell back to English
    salutation: str = ""
    line: int = 0

    @property
    def display_name(self) -> str:
        """'Muster, Erika' -> 'Erika Muster': the name as it is said, for greeting and To:."""
        last, comma, first = self.name.partition(",")
        return f"{first.strip()} {last.strip()}" if comma and first.strip() else self.name


def resolve_language(code: str, path: Path, line: int) -> tuple[str, str]:
    """(language to write in, language asked for if it had to fall back, else '')."""
    try:
        asked = Locale.parse(code.replace("-", "_")).language
    except (UnknownLocaleError, ValueError):
        raise InputError(
            f"language {code!r} is not a language code",
            path,
            line=line,
            fix=f"use a code such as {', '.join(supported_languages())}",
        ) from None
    if asked in supported_languages():
        return asked, ""
    return DEFAULT_LANGUAGE, asked


def _header(reader, path: Path) -> list[str]:
    header = [h.strip().lower() for h in next(reader, None) or []]
    allowed = [list(REQUIRED_COLUMNS), [*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS]]
    if header not in allowed:
        raise InputError(
            f"header must be {','.join(REQUIRED_COLUMNS)}[,salutation] (got {','.join(header)})",
            path,
            line=1,
            fix="see stakeholders.example.csv for the format",
        )
    return header


def _recipient(row: list[str], header: list[str], path: Path, line: int) -> Recipient:
    if len(row) != len(header):
        raise InputError(
            f"expected {len(header)} fields ({','.join(header)}), found {len(row)}",
            path,
            line=line,
            fix="quote names that contain commas",
        )
    cells = dict(zip(header, (cell.strip() for cell in row), strict=True))
    if not cells["name"]:
        raise InputError("name is empty", path, line=line)
    if not EMAIL.match(cells["email"]):
        raise InputError(
            f"{cells['email']!r} is not an email address",
            path,
            line=line,
            fix="use the form someone@example.org",
        )
    language, asked = resolve_language(cells["language"], path, line)
    return Recipient(
        cells["name"], cells["email"], language, asked, cells.get("salutation", ""), line
    )


def read_recipients(path: Path) -> list[Recipient]:
    """Read and check the whole recipients CSV; errors name the file and line."""
    path = Path(path)
    if not path.is_file():
        raise InputError(
            "recipients file not found",
            path,
            fix="copy stakeholders.example.csv to stakeholders.csv and fill it in",
        )
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"recipients file is not UTF-8 ({exc.reason})", path, fix="save the file as UTF-8 CSV"
        ) from None
    reader = csv.reader(text.splitlines(keepends=True))
    header = _header(reader, path)
    recipients: list[Recipient] = []
    seen: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        if not row or all(not cell.strip() for cell in row) or row[0].lstrip().startswith("#"):
            continue
        r = _recipient(row, header, path, line)
        if r.email.lower() in seen:
            raise InputError(
                f"{r.email} is listed twice (first on line {seen[r.email.lower()]})",
                path,
                line=line,
                fix="keep one line per recipient",
            )
        seen[r.email.lower()] = line
        recipients.append(r)
    if not recipients:
        raise InputError(
            "recipients file lists nobody",
            path,
            fix="add one line per recipient: name,email,language",
        )
    return recipients
