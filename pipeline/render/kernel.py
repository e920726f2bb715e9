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
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import nbformat
import zmq
from jupyter_client.client import KernelClient
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
AHEAD = 3  # kernels started before their page's turn (see KernelSpace)


@dataclass(frozen=True)
class KernelRequest:
    """The kernel one page and format runs in: where it starts and with which environment.

    `prelude` holds the page's leading cells that only import (and the cache's probes): they
    run as soon as the kernel is up, even when it was started ahead, since an import reads
    code, never this edition's data or another page's output.
    """

    key: tuple[str, str]  # (page, format)
    cwd: Path
    env: dict[str, str]
    prelude: tuple[str, ...] = ()
    timeout: float | None = None


@dataclass
class _Kernel:
    """A kernel being started (or started) for one request; `ready` yields its client."""

    request: KernelRequest
    km: AsyncKernelManager
    log_path: Path
    log: BinaryIO
    progress: _Progress
    ready: asyncio.Task  # -> (client, outputs of the prelude's cells)


@dataclass
class KernelSpace:
    """Where this render's kernels keep sockets, connection files and logs, and the event loop
    they all run on.

    `upcoming` lists, in order, the kernels later pages will need. While one page's kernel
    runs its cells, the next AHEAD in that list are started (`ahead`), so their start-up
    (half a second to a second of Python and Jupyter imports, each in a process of its own)
    overlaps this page's work; three, because after the briefing's two long runs the pages
    whose cells run quickly or come from the cache leave the next kernel little time (one
    new article: the editions page waited 0.3 s for its kernel with two). Each page still gets a fresh kernel of its own, in
    which only its own import-only leading cells run before its turn (`KernelRequest`).
    """

    folder: Path
    transport: str  # "ipc" (Unix sockets in `folder`) or "tcp" (127.0.0.1)
    serial: int = 0
    loop: asyncio.AbstractEventLoop = field(default_factory=asyncio.new_event_loop)
    upcoming: list[KernelRequest] = field(default_factory=list)
    ahead: list[_Kernel] = field(default_factory=list)  # in `upcoming`'s order
    stopping: list[asyncio.Task] = field(default_factory=list)  # asked to exit, not yet gone

    def next_stem(self) -> Path:
        self.serial += 1
        return self.folder / f"k{self.serial}"

    def take(self, request: KernelRequest) -> _Kernel:
        """The kernel started ahead for `request`, else one started now.

        The list made before rendering can be off where a page's plan changed meanwhile (a
        cell reads chart data an earlier page rewrote): kernels started for pages passed
        without one are stopped, those for later pages kept.
        """
        self.upcoming = [r for r in self.upcoming if r.key != request.key]
        for i, kernel in enumerate(self.ahead):
            if kernel.request == request:
                passed, self.ahead = self.ahead[:i], self.ahead[i + 1 :]
                if passed:
                    run_quietly(self.loop, _discard_all(passed), passed[0].log)
                return kernel
        return self._launch(request)

    def expect(self, requests: list[KernelRequest]) -> None:
        """The kernels this render's pages will need, in order (`upcoming`). Kernels started
        early for other requests (a guess the new tables proved wrong) are stopped; those
        for requests in the list are kept for their page."""
        kept = [k for k in self.ahead if k.request in requests]
        wrong = [k for k in self.ahead if k.request not in requests]
        self.ahead = sorted(kept, key=lambda k: requests.index(k.request))
        self.upcoming = [r for r in requests if r not in [k.request for k in kept]]
        if wrong:
            run_quietly(self.loop, _discard_all(wrong), wrong[0].log)

    @contextlib.contextmanager
    def in_background(self) -> Iterator[None]:
        """Run the event loop on a thread of its own meanwhile, so kernels started ahead boot
        and run their preludes while this thread does other work (the tables)."""
        import threading

        runner = threading.Thread(target=self.loop.run_forever, name="kernels", daemon=True)
        runner.start()
        try:
            yield
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            runner.join()

    def start_next(self) -> None:
        """Start the next listed kernels; they boot while the current one works."""
        while len(self.ahead) < AHEAD and self.upcoming:
            self.ahead.append(self._launch(self.upcoming.pop(0)))

    def discard_ahead(self) -> None:
        """Stop kernels started for runs that did not come (a failure, an interrupt)."""
        kernels, self.ahead = self.ahead, []
        if kernels:
            run_quietly(self.loop, _discard_all(kernels), kernels[0].log)

    def _launch(self, request: KernelRequest) -> _Kernel:
        km, log_path = kernel_manager(self)
        log = open(log_path, "ab")  # noqa: SIM115 (closed when the kernel is stopped)
        progress = _Progress()
        ready = self.loop.create_task(_start(km, request, log, progress))
        return _Kernel(request, km, log_path, log, progress, ready)


@contextlib.contextmanager
def kernel_space() -> Iterator[KernelSpace]:
    """A private (0700) folder and one event loop for one render's kernels; at the end any
    kernel still starting is stopped, the loop closed and the folder removed."""
    folder, transport = _private_folder(SOCKET_BASES or (tempfile.gettempdir(), "/tmp"))
    space = KernelSpace(folder, transport)
    try:
        yield space
    finally:
        try:
            space.discard_ahead()
        finally:
            try:
                space.loop.run_until_complete(_all_done(space.stopping))
                space.loop.run_until_complete(space.loop.shutdown_asyncgens())
            finally:
                space.loop.close()
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
    request: KernelRequest,
    timeout: float | None,
    describe: dict,
    cell_lines: list[int],
) -> None:
    """Run every cell of `nb` in a fresh kernel for `request` (outputs land in `nb`), then stop
    it; raise RenderError.

    `describe` holds the RenderError fields naming the page (`page`, `fmt`);
    `cell_lines` maps cell index to its line in the page.
    """
    if tuple(c.source for c in nb.cells[: len(request.prelude)]) != request.prelude:
        raise ValueError("the request's prelude is not the notebook's first cells")  # a bug
    kernel = space.take(request)
    client = NotebookClient(nb, km=kernel.km, timeout=timeout, allow_errors=False)
    try:
        run_quietly(space.loop, _run(client, kernel, space), kernel.log)
    except Exception as exc:
        kernel.log.flush()
        kernel_output = kernel.log_path.read_text(encoding="utf-8", errors="replace")
        raise _failure(exc, kernel.progress, kernel_output, describe, cell_lines, timeout) from exc
    finally:
        kernel.log.close()


def run_quietly(loop: asyncio.AbstractEventLoop, coro, log) -> None:
    """Run `coro` on the render's event loop until it ends, whatever happens.

    Unlike `asyncio.run`, a task cancelled by a signal that then ends in another error (a
    kernel stopped mid-cell raises DeadKernelError) is reported to the kernel log, not to the
    terminal through asyncio's logger. The loop is closed by `kernel_space`, after the last
    kernel is stopped.
    """
    loop.set_exception_handler(lambda _, context: _note(log, context))
    task = loop.create_task(coro)
    try:
        loop.run_until_complete(task)
    finally:
        if not task.done():
            task.cancel()  # interrupted: let its `finally` stop the kernel
            loop.run_until_complete(asyncio.gather(task, return_exceptions=True))


def _note(log, context: dict) -> None:
    text = f"event loop: {context.get('message')}: {context.get('exception')!r}\n"
    with contextlib.suppress(ValueError, OSError):  # the log may already be closed
        log.write(text.encode())


async def _start(km: AsyncKernelManager, request: KernelRequest, log, progress):
    """Start the kernel, wait until it answers and run the request's prelude; the client
    (channels open) and the prelude cells' outputs."""
    progress.spec = f"kernel {KERNEL_NAME!r} ({km.kernel_spec.resource_dir})"
    await km.start_kernel(cwd=str(request.cwd), env=request.env, stdout=log, stderr=log)
    kc = km.client()
    kc.start_channels()
    try:
        await kc.wait_for_ready(timeout=STARTUP_TIMEOUT)
        progress.started = True
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in request.prelude])
        client = NotebookClient(nb, km=km, timeout=request.timeout, allow_errors=False)
        client.kc = kc
        for index, cell in enumerate(nb.cells):
            progress.cell = index
            await client.async_execute_cell(cell, index, execution_count=index + 1)
    except BaseException:
        _close_client(kc)
        raise
    return kc, [cell.get("outputs", []) for cell in nb.cells]


async def _run(client: NotebookClient, kernel: _Kernel, space: KernelSpace) -> None:
    kc = None
    finished = False
    progress = kernel.progress
    try:
        with timing.step("kernel start"):  # what is left of it once started ahead
            kc, done = await kernel.ready
        space.start_next()
        client.kc = kc
        with timing.step("cells"):
            for index, cell in enumerate(client.nb.cells):
                if index < len(done):  # the prelude, run as soon as the kernel was up
                    cell.outputs = done[index]
                    continue
                progress.cell = index
                await client.async_execute_cell(cell, index, execution_count=index + 1)
        finished = True
    finally:
        progress.exit_code = _exit_code(kernel.km)
        if kc is not None:
            _close_client(kc)
        with timing.step("kernel stop"):
            if finished:  # asked to exit now; its exit is awaited while later pages work
                await kernel.km.request_shutdown()
                space.stopping.append(asyncio.ensure_future(_finish_stop(kernel.km)))
            else:
                await stop_kernel(kernel.km, graceful=False)


async def _all_done(tasks: list[asyncio.Task]) -> None:
    await asyncio.gather(*tasks, return_exceptions=True)


async def _finish_stop(km: AsyncKernelManager) -> None:
    """Wait for a kernel asked to shut down to exit (killing it after `shutdown_wait_time`),
    then free its sockets."""
    try:
        await km.finish_shutdown()
    finally:
        await km.cleanup_resources()


async def _discard_all(kernels: list[_Kernel]) -> None:
    """Stop them all together: one interrupted stop leaves none of the others running."""
    await asyncio.gather(*(_discard(k) for k in kernels), return_exceptions=True)


async def _discard(kernel: _Kernel) -> None:
    """Stop a kernel started ahead that will not be used, and close its log."""
    try:
        kernel.ready.cancel()
        (started,) = await asyncio.gather(kernel.ready, return_exceptions=True)
        if not isinstance(started, BaseException):
            _close_client(started[0])
        await stop_kernel(kernel.km, graceful=False)
    finally:
        kernel.log.close()


def _close_client(kc: KernelClient) -> None:
    kc.stop_channels()
    if not kc.context.closed:
        kc.context.destroy(linger=0)


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
