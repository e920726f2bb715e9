"""Command line: `python -m pipeline {tables,render,report,post-render,publish,send,eval,market,add}`.

Bad input ends with one clear message naming the file (and line) and exit status 2, never a
traceback; nothing already built or published is touched. A render that fails ends the same
way with status 3, naming the page, engine, step and cause, and the path of a report in
`.build/logs/` that holds the traceback (`--verbose` prints it). See docs/rendering.md.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import signal
import sys
import time
from pathlib import Path

from pipeline.config import Settings
from pipeline.errors import InputError


def _tables(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline.editions.edition import build_edition
    from pipeline.render.build import metadata_warnings

    out = Path(args.out).resolve() if args.out else settings.processed_dir
    built = build_edition(settings, out, reuse=not args.force)
    for warning in metadata_warnings(built["articles"], settings.articles_dir):
        print(warning, file=sys.stderr)
    for path in built.written:
        print(f"wrote {path}")
    for row in built.tables.rejects.iter_rows(named=True):
        print(f"skipped {row['path']}: {row['reason']}", file=sys.stderr)
    print(f"edition {built.edition.id}")
    return 0


def _report(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline.render.build import report

    report(settings, engine=args.engine, force=args.force)
    return 0


def _render(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline.render.build import build_site, choose_engine

    build_site(settings, choose_engine(args.engine), project=args.project, force=args.force)
    return 0


def _post_render(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline.render.post_render import post_render

    site = Path(os.environ.get("QUARTO_PROJECT_OUTPUT_DIR") or settings.site_dir)
    post_render(site, settings)
    return 0


def _publish(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline.editions.archive import publish

    target = publish(
        settings.site_dir,
        settings.editions_dir,
        corrects=args.corrects or None,
        note=args.note or None,
    )
    print(f"published {target}")
    print(
        "commit it (git add editions/ && git commit) and run `make report` to list it on the site"
    )
    return 0


def _send(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline.editions.mail import SmtpSettings, send_edition

    smtp = SmtpSettings.from_env() if args.send else None
    report = send_edition(
        settings.site_dir,
        Path(args.recipients),
        Path(args.outbox),
        send=args.send,
        smtp=smtp,
        site_url=settings.site_url,
        ledger_path=Path(args.outbox) / "sent.jsonl",
        unsubscribe=os.environ.get("BRIEFING_SMTP_UNSUBSCRIBE"),
        resend_uncertain=args.resend_uncertain,
    )
    print(report.summary())
    return report.exit_code


def _eval(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline.evaluation.report import format_report, write_json
    from pipeline.evaluation.run import evaluate

    try:
        as_of = dt.date.fromisoformat(args.as_of) if args.as_of else None
    except ValueError:
        raise InputError(f"--as-of {args.as_of!r} is not a date", fix="use YYYY-MM-DD") from None
    ev = evaluate(Path(args.labels), Path(args.articles), as_of, settings)
    print(format_report(ev), end="")
    if args.json:
        print(f"wrote {write_json(ev, Path(args.json))}")
    return 0


def _date_arg(value: str | None, flag: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        raise InputError(f"{flag} {value!r} is not a date", fix="use YYYY-MM-DD") from None


def _market_update(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline.market.update import update_market

    since, until = _date_arg(args.since, "--since"), _date_arg(args.until, "--until")
    update_market(settings, since=since, until=until)
    return 0


def _add(args: argparse.Namespace, settings: Settings) -> int:
    """Fetch pages into the articles folder; exit 2 if any was refused for another reason
    than being in the corpus already."""
    from pipeline.corpus.fetch import Fetcher, add_articles

    if not args.urls and not args.feed:
        raise InputError("nothing to add", fix="give article URLs, or --feed FEED_URL")
    fetcher = Fetcher(delay=settings.fetch_delay)
    outcomes = add_articles(args.urls, args.feed, settings.articles_dir, fetcher)
    for o in outcomes:
        if o.path:
            print(
                f"added {o.path} ({o.meta.get('title', 'no title')}, {o.meta.get('published_at', 'no date')})"
            )
        else:
            print(f"refused {o.url}: {o.reason}", file=sys.stderr)
    added = sum(1 for o in outcomes if o.path)
    print(f"{added} added, {len(outcomes) - added} refused")
    return EXIT_INPUT if any(o.reason and not o.duplicate for o in outcomes) else 0


def _add_add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("add", help="fetch article pages (or a feed's entries) into the corpus")
    p.add_argument("urls", nargs="*", help="article URLs")
    p.add_argument("--feed", action="append", default=[], help="an RSS or Atom feed URL")
    p.set_defaults(func=_add)


def _add_market_parser(sub: argparse._SubParsersAction) -> None:
    """`market update`: this week's daily bars into the local updates folder."""
    market = sub.add_parser("market", help="market data: `market update` fetches new bars")
    actions = market.add_subparsers(dest="action", required=True)
    p = actions.add_parser("update", help="fetch daily bars from the live source (data/market/)")
    p.add_argument("--since", help="first day to fetch (default: a week before the newest held)")
    p.add_argument("--until", help="last day to fetch (default: today)")
    p.set_defaults(func=_market_update)


class Interrupted(KeyboardInterrupt):
    """SIGINT, SIGTERM or SIGHUP, raised like Ctrl-C so every cleanup (`finally`, temp folders)
    runs; the CLI then prints one line instead of a traceback."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


_received: list[int] = []  # signals seen; a library's cleanup may replace our exception


def _raise_interrupted(signum: int, frame: object) -> None:
    _received.append(signum)
    raise Interrupted(signum)


HANDLED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class _SignalAwareLoop(asyncio.SelectorEventLoop):
    """An event loop that tells the CLI about signals a library takes over, then gives them back.

    While a kernel runs, nbclient hooks SIGINT and SIGTERM on the loop (to shut the kernel down)
    and afterwards resets them to the default, so a later SIGTERM would kill the build with no
    cleanup. This loop notes each signal it handles and puts the CLI's handler back.
    """

    def add_signal_handler(self, sig, callback, *args):  # noqa: ANN001, ANN002, ANN201
        def noted(*a: object) -> None:
            _received.append(sig)
            _stop_kernels()
            callback(*a)

        super().add_signal_handler(sig, noted, *args)

    def remove_signal_handler(self, sig):  # noqa: ANN001, ANN201
        removed = super().remove_signal_handler(sig)
        if sig in HANDLED:
            try:
                signal.signal(sig, _raise_interrupted)
            except ValueError:  # not the main thread: nothing of ours to restore there
                pass
        return removed


def _stop_kernels() -> None:
    """SIGKILL the Jupyter kernels this process started (Linux; elsewhere a no-op).

    nbclient shuts its kernel down politely when a signal comes, and a kernel stopped mid-import
    or mid-cell prints its own traceback to our stderr. Its work is thrown away anyway, so it
    is stopped outright; only direct children whose command line names ipykernel are touched.
    """
    me = os.getpid()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) != me:
                continue
            if b"ipykernel" in (stat.parent / "cmdline").read_bytes():
                os.kill(int(stat.parent.name), signal.SIGKILL)
        except (OSError, ValueError, IndexError):
            continue


class _SignalAwarePolicy(asyncio.DefaultEventLoopPolicy):
    _loop_factory = _SignalAwareLoop


def _interrupted_message(signum: int) -> str:
    return (
        f"error: interrupted by {signal.Signals(signum).name}; stopped before finishing. "
        "The site and editions folders hold only complete builds (the last one that "
        "finished); run the command again."
    )


def build_parser() -> argparse.ArgumentParser:
    """The command line: one subcommand per step of the weekly loop."""
    parser = argparse.ArgumentParser(prog="python -m pipeline", description=__doc__)
    parser.add_argument("--verbose", action="store_true", help=VERBOSE_HELP)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("tables", help="build the Parquet tables")
    p.add_argument("--out", help="folder for the tables (default data/processed)")
    p.add_argument(
        "--force",
        action="store_true",
        default=os.environ.get("FORCE", "") == "1",
        help="rebuild every table, even the market tables when unchanged (or FORCE=1)",
    )
    p.set_defaults(func=_tables)
    for name, func, text in (
        ("report", _report, "tables, then site and PDF"),
        ("render", _render, "site and PDF from existing tables"),
    ):
        p = sub.add_parser(name, help=text)
        p.add_argument(
            "--engine",
            choices=["quarto", "builtin"],
            default=None,
            help="default: quarto if on PATH, else builtin (QUARTO=0 forces builtin)",
        )
        p.add_argument(
            "--verbose", action="store_true", default=argparse.SUPPRESS, help=VERBOSE_HELP
        )
        p.add_argument(
            "--force",
            action="store_true",
            default=os.environ.get("FORCE", "") == "1",
            help="rebuild everything, even what is unchanged (or FORCE=1)",
        )
        p.set_defaults(func=func)
    p = sub.choices["render"]
    p.add_argument("--project", type=Path, help="Quarto project to render (default: this one)")
    p = sub.add_parser("post-render", help="finish a rendered site (run by _quarto.yml)")
    p.set_defaults(func=_post_render)
    _add_edition_parsers(sub)
    _add_eval_parser(sub)
    _add_market_parser(sub)
    _add_add_parser(sub)
    return parser


def _add_edition_parsers(sub) -> None:
    """`publish` and `send`: what happens to a built edition."""
    p = sub.add_parser("publish", help="freeze the built site as editions/<edition>/")
    p.add_argument(
        "--corrects",
        default=os.environ.get("CORRECTS", ""),
        help="id of the edition this one corrects (or CORRECTS=...)",
    )
    p.add_argument(
        "--note", default=os.environ.get("NOTE", ""), help="a line for the corrections log"
    )
    p.set_defaults(func=_publish)
    p = sub.add_parser("send", help="email the current edition (dry run unless --send)")
    p.add_argument(
        "--send", action="store_true", help="really send over SMTP (default: write .eml files)"
    )
    p.add_argument(
        "--recipients", default=os.environ.get("BRIEFING_RECIPIENTS", "stakeholders.csv")
    )
    p.add_argument("--outbox", default=os.environ.get("BRIEFING_OUTBOX", "outbox"))
    p.add_argument(
        "--resend-uncertain",
        action="store_true",
        help="resend to recipients whose send was interrupted mid-way (may duplicate)",
    )
    p.set_defaults(func=_send)


def _add_eval_parser(sub) -> None:
    p = sub.add_parser("eval", help="score the engine against a labelled corpus")
    p.add_argument("--labels", required=True, help="folder of articles_*.csv and claims_*.csv")
    p.add_argument("--articles", required=True, help="folder of the labelled articles")
    p.add_argument("--json", help="also write the figures and the items behind them here")
    p.add_argument(
        "--as-of",
        help="edition cut-off YYYY-MM-DD (default: the newest article's date, as `make tables`; "
        "BRIEFING_AS_OF is not read)",
    )
    p.set_defaults(func=_eval)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    for signum in HANDLED:
        signal.signal(signum, _raise_interrupted)
    asyncio.set_event_loop_policy(_SignalAwarePolicy())
    settings = None
    try:
        try:
            settings = Settings.from_env()
            return args.func(args, settings)
        except SystemExit:
            raise
        except KeyboardInterrupt as exc:
            signum = exc.signum if isinstance(exc, Interrupted) else signal.SIGINT
            return _interrupted(signum)
        except BaseException as exc:
            if _received:
                # A library's cleanup failed while unwinding from the signal (nbclient stopping
                # its kernel ends in DeadKernelError or CancelledError): still an interruption.
                return _interrupted(_received[0])
            return _failed(exc, settings, args.verbose)
    except KeyboardInterrupt as exc:  # a signal while the failure was being reported
        return _interrupted(exc.signum if isinstance(exc, Interrupted) else signal.SIGINT)


VERBOSE_HELP = "on failure, also print the full report (traceback) kept in .build/logs/"
EXIT_INPUT, EXIT_RENDER, EXIT_BUG = 2, 3, 1


def _interrupted(signum: int) -> int:
    _stop_kernels()
    print(_interrupted_message(signum), file=sys.stderr)
    return 128 + signum


def _failed(exc: BaseException, settings: Settings | None, verbose: bool) -> int:
    """One line (and where the full report is) for a failure; the traceback goes to the log.

    Bad input is fully explained by its message and needs no log. A render failure names the
    page, the engine, the step and the cause; anything else is a bug, reported the same way.
    """
    import traceback

    from pipeline.render.failures import RenderError, one_line

    _stop_kernels()  # no kernel outlives a failed build, whatever left it running
    if isinstance(exc, InputError):
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    report = "".join(traceback.format_exception(exc))
    if isinstance(exc, RenderError):
        message, code = f"error: {exc}", EXIT_RENDER
        if exc.details.strip():
            report = f"{exc.details.rstrip()}\n\n{report}"
    else:
        message = f"error: unexpected {type(exc).__name__}: {one_line(str(exc))} (a bug)"
        code = EXIT_BUG
    report = f"python -m pipeline {' '.join(sys.argv[1:])}\n{message}\n\n{report}"
    log = _write_log(settings, report)
    print(message, file=sys.stderr)
    print(f"  details: {log}" if log else "  (the report could not be written)", file=sys.stderr)
    if verbose:
        print(report, file=sys.stderr)
    return code


def _write_log(settings: Settings | None, report: str) -> Path | None:
    from pipeline.config import PROJECT_ROOT
    from pipeline.render.build import write_failure_log

    site_dir = settings.site_dir if settings else PROJECT_ROOT / "_site"
    try:
        return write_failure_log(site_dir, report)
    except OSError:
        return None


def _exit(code: int) -> None:
    """Leave with `code`, promptly: a signal now ends the process at once, and a library
    thread left running (not a daemon) gets a few seconds, not forever."""
    import threading

    for signum in HANDLED:
        signal.signal(signum, lambda sig, frame: os._exit(128 + sig))
    deadline = time.monotonic() + 5
    others = [t for t in threading.enumerate() if t is not threading.main_thread()]
    for thread in others:
        if not thread.daemon:
            thread.join(max(0.0, deadline - time.monotonic()))
    if any(t.is_alive() and not t.daemon for t in others):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":
    _exit(main())
