"""Jupyter kernels for the built-in renderer: one per page and format, none outliving it.

Why the kernel's life is managed here rather than by `NotebookClient.execute()`: nbclient
registers an `atexit` hook and event-loop signal handlers before it starts the kernel, and
removes them only once the kernel is up. When a kernel cannot start (a missing executable, a
socket path too long for Unix sockets) both are left behind; at exit the hook waits forever on
a background loop and the process hangs, deaf to SIGTERM (issue 16). So this module starts and
stops the kernel itself, on an event loop it creates and closes, and lets nbclient only run the
cells. Every way a run can fail ends in a `RenderError` naming the step.

Sockets live in a short private folder under the temporary directory (issue 15): a Unix socket
path holds at most 107 bytes, and a checkout's own path can be longer than that. When no short
folder can be made, the kernel listens on loopback TCP instead. The kernel's own stdout and
stderr go to a log file in that folder, so the terminal sees none of its warnings, and the log
is kept with the failure report when something goes wrong.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import zmq
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
from nbformat import NotebookNode

from pipeline.render import timing
from pipeline.render.failures import RenderError, last_line

SUN_PATH_MAX = 107  # Linux `sockaddr_un.sun_path` is 108 bytes, the last one a NUL
SOCKET_BASES: tuple[str, ...] | None = None  # None: $TMPDIR, then /tmp (tests set others)
STARTUP_TIMEOUT = 60  # seconds for a kernel to answer its first request
KERNEL_NAME = "python3"


@dataclass
class KernelSpace:
    """Where this render's kernels keep sockets, connection files and logs."""

    folder: Path
    transport: str  # "ipc" (Unix sockets in `folder`) or "tcp" (127.0.0.1)
    serial: int = 0

    def next_stem(self) -> Path:
        self.serial += 1
        return self.folder / f"k{self.serial}"


@contextlib.contextmanager
def kernel_space() -> Iterator[KernelSpace]:
    """A private (0700) folder for one render's kernels, removed at the end."""
    folder, transport = _private_folder(SOCKET_BASES or (tempfile.gettempdir(), "/tmp"))
    try:
        yield KernelSpace(folder, transport)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _private_folder(bases: tuple[str, ...]) -> tuple[Path, str]:
    """The first base where a fresh folder is short enough for sockets; else TCP."""
    spare: Path | None = None
    for base in dict.fromkeys(bases):
        try:
            folder = Path(tempfile.mkdtemp(prefix="briefing-", dir=base))
        except OSError:
            continue
        if len(os.fsencode(folder / "k9999-99")) <= SUN_PATH_MAX:
            if spare is not None:
                shutil.rmtree(spare, ignore_errors=True)
            return folder, "ipc"
        if spare is None:
            spare = folder
        else:
            shutil.rmtree(folder, ignore_errors=True)
    return spare or Path(tempfile.mkdtemp(prefix="briefing-")), "tcp"


@dataclass
class _Progress:
    """How far a run got, so a failure can name its step."""

    started: bool = False
    spec: str = f"kernel {KERNEL_NAME!r}"
    cell: int | None = None
    exit_code: int | None = None


def kernel_manager(space: KernelSpace) -> tuple[AsyncKernelManager, Path]:
    """A manager whose kernel uses `space` and is never restarted behind our back."""
    stem = space.next_stem()
    if space.transport == "ipc":
        km = AsyncKernelManager(kernel_name=KERNEL_NAME, transport="ipc", ip=str(stem))
    else:
        km = AsyncKernelManager(kernel_name=KERNEL_NAME, transport="tcp", ip="127.0.0.1")
        if zmq.has("curve") and "transport_encryption" in km.trait_names():
            km.transport_encryption = "auto"  # encrypted where the kernel spec allows it
    km.connection_file = str(stem.with_suffix(".json"))
    km.autorestart = False  # a kernel that dies is a failure to report, not to hide
    return km, stem.with_suffix(".log")


def run_cells(
    nb: NotebookNode,
    space: KernelSpace,
    cwd: Path,
    timeout: float | None,
    describe: dict,
    cell_lines: list[int],
) -> None:
    """Run every cell of `nb` in a new kernel (outputs land in `nb`); raise RenderError.

    `describe` holds the RenderError fields naming the page (`page`, `fmt`);
    `cell_lines` maps cell index to its line in the page.
    """
    km, log_path = kernel_manager(space)
    client = NotebookClient(nb, km=km, timeout=timeout, allow_errors=False)
    progress = _Progress()
    try:
        with open(log_path, "ab") as log:
            run_quietly(_run(client, km, cwd, log, progress), log)
    except Exception as exc:
        kernel_output = log_path.read_text(encoding="utf-8", errors="replace")
        raise _failure(exc, progress, kernel_output, describe, cell_lines, timeout) from exc


def run_quietly(coro, log) -> None:
    """Run `coro` on a new event loop, closed at the end whatever happens.

    Unlike `asyncio.run`, a task cancelled by a signal that then ends in another error (a
    kernel stopped mid-cell raises DeadKernelError) is reported to the kernel log, not to the
    terminal through asyncio's logger.
    """
    loop = asyncio.new_event_loop()
    loop.set_exception_handler(lambda _, context: _note(log, context))
    task = loop.create_task(coro)
    try:
        loop.run_until_complete(task)
    finally:
        try:
            if not task.done():
                task.cancel()  # interrupted: let its `finally` stop the kernel
                loop.run_until_complete(asyncio.gather(task, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            loop.close()


def _note(log, context: dict) -> None:
    text = f"event loop: {context.get('message')}: {context.get('exception')!r}\n"
    with contextlib.suppress(ValueError, OSError):  # the log may already be closed
        log.write(text.encode())


async def _run(client: NotebookClient, km: AsyncKernelManager, cwd, log, progress) -> None:
    kc = None
    finished = False
    try:
        progress.spec = f"kernel {KERNEL_NAME!r} ({km.kernel_spec.resource_dir})"
        with timing.step("kernel start"):
            await km.start_kernel(cwd=str(cwd), stdout=log, stderr=log)
            kc = km.client()
            kc.start_channels()
            await kc.wait_for_ready(timeout=STARTUP_TIMEOUT)
        progress.started = True
        client.kc = kc
        with timing.step("cells"):
            for index, cell in enumerate(client.nb.cells):
                progress.cell = index
                await client.async_execute_cell(cell, index, execution_count=index + 1)
        finished = True
    finally:
        progress.exit_code = _exit_code(km)
        if kc is not None:
            kc.stop_channels()
            if not kc.context.closed:
                kc.context.destroy(linger=0)
        with timing.step("kernel stop"):
            await stop_kernel(km, graceful=finished)


async def stop_kernel(km: AsyncKernelManager, graceful: bool) -> None:
    """Stop the kernel and free its sockets and ZMQ context.

    A kernel that finished is asked to shut down (it writes its coverage data then); after a
    failure it is killed outright, since its work is thrown away anyway.
    """
    try:
        if km.has_kernel:
            await km.shutdown_kernel(now=not graceful)
    finally:
        await km.cleanup_resources()


def _exit_code(km: AsyncKernelManager) -> int | None:
    process = getattr(km.provisioner, "process", None)
    return process.poll() if process is not None else None


def _failure(exc, progress, kernel_output, describe, cell_lines, timeout) -> RenderError:
    """The RenderError that names the step a run failed at, and why."""
    said = last_line(kernel_output)
    details = f"kernel output:\n{kernel_output}" if kernel_output.strip() else ""
    where = f"cell at line {cell_lines[progress.cell]}" if progress.cell is not None else "a cell"
    if not progress.started:
        cause = f"{type(exc).__name__}: {exc}" if isinstance(exc, OSError) else str(exc)
        if said and not isinstance(exc, OSError):
            cause += f"; the kernel said: {said}"
        cause = f"{progress.spec}: {cause}"
        return RenderError(step="kernel did not start", cause=cause, details=details, **describe)
    if isinstance(exc, CellTimeoutError):
        cause = f"still running after {timeout:g} s (execute: timeout)"
        return RenderError(step=f"{where} timed out", cause=cause, details=details, **describe)
    if isinstance(exc, CellExecutionError):
        cause = f"{exc.ename}: {exc.evalue}"
        details = f"{exc}\n{details}"
        return RenderError(step=f"{where} raised", cause=cause, details=details, **describe)
    if isinstance(exc, DeadKernelError):
        code = progress.exit_code
        cause = "the kernel process exited" + (f" with code {code}" if code is not None else "")
        if said:
            cause += f"; it said: {said}"
        return RenderError(
            step=f"kernel died in the {where}", cause=cause, details=details, **describe
        )
    return RenderError(
        step=f"{where} failed", cause=f"{type(exc).__name__}: {exc}", details=details, **describe
    )
