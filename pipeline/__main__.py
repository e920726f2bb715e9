"""Command line: `python -m pipeline {tables,render,report,post-render,publish,send}`.

Bad input ends with one clear message naming the file (and line) and exit status 2, never a
traceback; nothing already built or published is touched.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path

from pipeline.config import Settings
from pipeline.errors import InputError


def _tables(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline.build import metadata_warnings
    from pipeline.tables import build_tables, write_tables

    out = Path(args.out).resolve() if args.out else settings.processed_dir
    tables = build_tables(settings)
    for warning in metadata_warnings(tables["articles"], settings.articles_dir):
        print(warning, file=sys.stderr)
    for path in write_tables(tables, out, settings):
        print(f"wrote {path}")
    for row in tables.rejects.iter_rows(named=True):
        print(f"skipped {row['path']}: {row['reason']}", file=sys.stderr)
    print(f"edition {tables.edition.id}")
    return 0


def _report(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline.build import report

    report(settings, engine=args.engine)
    return 0


def _render(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline.build import build_site, choose_engine

    build_site(settings, choose_engine(args.engine))
    return 0


def _post_render(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline.site import post_render

    site = Path(os.environ.get("QUARTO_PROJECT_OUTPUT_DIR") or settings.site_dir)
    post_render(site, settings)
    return 0


def _publish(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline.editions import publish

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
    from pipeline.delivery import SmtpSettings, send_edition

    smtp = SmtpSettings.from_env() if args.send else None
    report = send_edition(
        settings.site_dir,
        Path(args.recipients),
        Path(args.outbox),
        send=args.send,
        smtp=smtp,
        site_url=settings.site_url,
        ledger_path=Path(args.outbox) / "sent.jsonl",
        resend_uncertain=args.resend_uncertain,
    )
    print(report.summary())
    return report.exit_code


class Interrupted(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised like Ctrl-C so every cleanup (`finally`, temp folders) runs."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _raise_interrupted(signum: int, frame: object) -> None:
    raise Interrupted(signum)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("tables", help="build the Parquet tables")
    p.add_argument("--out", help="folder for the tables (default data/processed)")
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
        p.set_defaults(func=func)
    p = sub.add_parser("post-render", help="finish a rendered site (run by _quarto.yml)")
    p.set_defaults(func=_post_render)
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
    args = parser.parse_args(argv)
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _raise_interrupted)
    try:
        settings = Settings.from_env()
        return args.func(args, settings)
    except KeyboardInterrupt as exc:
        signum = exc.signum if isinstance(exc, Interrupted) else signal.SIGINT
        print(
            f"error: interrupted by {signal.Signals(signum).name}; stopped before finishing. "
            "The site and editions folders hold only complete builds (the last one that "
            "finished); run the command again.",
            file=sys.stderr,
        )
        return 128 + signum
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        from pipeline.render import RenderError

        if isinstance(exc, RenderError):
            print(f"error: {exc}", file=sys.stderr)
            return 2
        raise


if __name__ == "__main__":
    sys.exit(main())
