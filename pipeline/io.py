"""Atomic writes and file hashing: one copy of each, used by every stage that writes or hashes.

A reader (a report cell, a web server, the next build) must never see half a file, and a build
killed mid-write must leave the previous file in place. So every output is written to a
temporary file beside its target, flushed to disk, then renamed over it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import signal
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import polars as pl

from pipeline.errors import InputError


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file's bytes, read in chunks so large inputs stay cheap on memory."""
    h = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_with(path: Path, write: Callable[[str], None]) -> None:
    """Call `write(tmp_path)` on a temporary file beside `path`, then rename it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_bytes_atomic(data: bytes, path: Path) -> None:
    write_with(path, lambda tmp: Path(tmp).write_bytes(data))


def write_text_atomic(text: str, path: Path) -> None:
    write_bytes_atomic(text.encode("utf-8"), path)


def json_text(data: object) -> str:
    """Stable JSON: sorted keys, indented, UTF-8 kept as is, one trailing newline."""
    return json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def write_json_atomic(data: object, path: Path) -> None:
    write_text_atomic(json_text(data), path)


def write_parquet_atomic(df: pl.DataFrame, path: Path) -> None:
    """Parquet with fixed settings: the same data gives the same bytes."""
    write_with(path, lambda tmp: df.write_parquet(tmp, compression="zstd", statistics=True))


def write_csv_atomic(df: pl.DataFrame, path: Path) -> None:
    write_with(path, lambda tmp: df.write_csv(tmp))


# --------------------------------------------------------------------------- atomic folders


def swap_in(build_dir: Path, site_dir: Path) -> None:
    """Replace `site_dir` by the finished `build_dir` so readers never see a half-built site.

    The old site is renamed to a backup, the new one renamed in, then the backup deleted; if
    the second rename fails the backup is put back. Both folders must be on one filesystem
    (build next to the site, e.g. with `staged_build`) so the renames are atomic.
    """
    build_dir, site_dir = Path(build_dir), Path(site_dir)
    if not build_dir.is_dir():
        raise InputError(
            "build folder not found", build_dir, fix="build the site into a temporary folder first"
        )
    # Ctrl-C or SIGTERM between the two renames would leave no site at all; hold them until the
    # swap is done (they are delivered right after). A SIGKILL there is undone by `recover_site`.
    with _signals_held():
        _swap(build_dir, site_dir)


def _backup_name(site_dir: Path) -> str:
    return f".{site_dir.name}.old-"


def _swap(build_dir: Path, site_dir: Path) -> None:
    backup = None
    if site_dir.exists():
        backup = site_dir.with_name(f"{_backup_name(site_dir)}{os.getpid()}")
        if backup.exists():
            shutil.rmtree(backup)
        os.rename(site_dir, backup)
    try:
        os.rename(build_dir, site_dir)
    except OSError:
        if backup is not None:
            os.rename(backup, site_dir)
        raise
    if backup is not None:
        shutil.rmtree(backup, ignore_errors=True)


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    held = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}
    old = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def recover_site(site_dir: Path) -> None:
    """Undo a swap cut short by SIGKILL: put the backup back if the site is gone, else drop it.

    Call it only when no other build can be swapping (the build lock is held).
    """
    site_dir = Path(site_dir)
    if not site_dir.parent.is_dir():
        return
    backups = sorted(
        (p for p in site_dir.parent.glob(f"{_backup_name(site_dir)}*") if p.is_dir()),
        key=lambda p: p.stat().st_mtime,
    )
    if backups and not site_dir.exists():
        os.rename(backups.pop(), site_dir)
    for stale in backups:
        shutil.rmtree(stale, ignore_errors=True)


@contextlib.contextmanager
def staged_build(site_dir: Path) -> Iterator[Path]:
    """Yield an empty folder beside `site_dir`; swap it in only if the block finishes.

    If the block raises, the temporary folder is removed and the previous site stays as it was.
    """
    site_dir = Path(site_dir)
    site_dir.parent.mkdir(parents=True, exist_ok=True)
    build_dir = Path(tempfile.mkdtemp(prefix=f".{site_dir.name}.build-", dir=site_dir.parent))
    try:
        yield build_dir
    except BaseException:
        shutil.rmtree(build_dir, ignore_errors=True)
        raise
    swap_in(build_dir, site_dir)
