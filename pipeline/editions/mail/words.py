"""The reader's language: one Jinja2 template of words per language, and Babel for the numbers.

`pipeline/templates/email_<lang>.j2` holds every word a message shows in that language, as
macros (subject, headline, lede, the key numbers' labels, the chart's labels and alt text...).
The layouts `email.html.j2` and `email.txt.j2` hold no words: they import the reader's word
template and place its macros. Numbers and dates go through Babel's CLDR formats
(`+2,5 %`, `19. November 2025`), and city names of the listings come from Babel's time-zone
names, so German readers get "Hongkong" without a hand-kept translation table.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
from babel import Locale
from babel.dates import format_date, format_skeleton, get_timezone_location
from babel.numbers import format_currency, format_decimal, format_percent

TEMPLATES = Path(__file__).resolve().parent.parent.parent / "templates"
DEFAULT_LANGUAGE = "en"


def supported_languages() -> tuple[str, ...]:
    """Languages that have a word template (`email_<lang>.j2`), English first."""
    found = sorted(p.stem.removeprefix("email_") for p in TEMPLATES.glob("email_*.j2"))
    return tuple(sorted(found, key=lambda lang: lang != DEFAULT_LANGUAGE))


def percent(value: float, digits: int = 1, sign: bool = True, *, locale: str) -> str:
    """A fraction as a percentage in the locale's own pattern: 0.025 -> '+2.5%' / '+2,5 %'."""
    pattern = Locale.parse(locale).percent_formats[None].pattern  # e.g. '#,##0 %'
    body = pattern.replace("#,##0", "#,##0." + "0" * digits) if digits else pattern
    if not sign:  # a magnitude: the words say up or down
        return format_percent(abs(value), format=body, locale=locale)
    return format_percent(value, format=f"+{body};-{body}", locale=locale)


def number(value: float, digits: int = 0, *, locale: str) -> str:
    return format_decimal(
        value, format="#,##0" + ("." + "0" * digits if digits else ""), locale=locale
    )


def money(value: float, currency: str, *, locale: str) -> str:
    return format_currency(value, currency, locale=locale)


def long_date(value: dt.date, *, locale: str) -> str:
    return format_date(value, format="long", locale=locale)


def short_date(value: dt.date, *, locale: str) -> str:
    """Day and month only ('Sep 1' / '1. Sept.'), for labels inside a year already named."""
    return format_skeleton("MMMd", value, locale=locale)


def city(timezone: str, *, locale: str) -> str:
    """The city of an exchange, in the reader's language, from its time zone (CLDR)."""
    return get_timezone_location(timezone, locale=locale, return_city=True)


def _locale_filter(fn):
    """A Jinja filter that formats for the `locale` of the render it is called in."""

    @jinja2.pass_context
    def bound(ctx: jinja2.runtime.Context, value: Any, *args: Any, **kw: Any) -> str:
        return fn(value, *args, locale=ctx["locale"], **kw)

    return bound


@cache
def environment() -> jinja2.Environment:
    """Autoescaped for `.html.j2`; filters format for the `locale` each render passes."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",), default=False),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    for name, fn in {
        "pct": percent,
        "num": number,
        "date": long_date,
        "day": short_date,
        "city": city,
    }.items():
        env.filters[name] = _locale_filter(fn)
    env.filters["money"] = _locale_filter(money)
    env.filters["oneline"] = lambda text: re.sub(r"[ \t\r\n]+", " ", str(text)).strip()
    return env


def words(language: str, context: dict[str, Any]) -> Any:
    """The reader's word template as a module, so Python (the chart) can call its macros."""
    template = environment().get_template(f"email_{language}.j2")
    return template.make_module({**context, "locale": language})
