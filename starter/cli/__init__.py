"""``sms-addon``, the service's one command: each process (the API, the worker), the
schema migration, the embedded dev stack of `make run`, and the operators' actions."""

from __future__ import annotations

import argparse
import sys

from config.settings import get_settings, secrets_of
from observability.logs import configure_logging


def _migrate(_: argparse.Namespace) -> None:
    from store.db import make_engine
    from store.migrate import head_revision, upgrade_to_head

    settings = get_settings()
    upgrade_to_head(make_engine(settings.database_url))
    print(f"schema at {head_revision()}")


def _worker(_: argparse.Namespace) -> None:
    import worker

    worker.main()


def _api(args: argparse.Namespace) -> None:
    from config.startup import StartupRefused
    from starter.api.app import build_services
    from starter.api.serving import api_processes, serve

    settings = get_settings()
    try:  # refuse at once, with one line, rather than from inside uvicorn's lifespan
        services = build_services(settings)
        services.writer.close()
        services.engine.dispose()
    except StartupRefused as exc:
        sys.exit(str(exc))
    serve(
        args.host or settings.api_host,
        args.port or settings.api_port,
        api_processes(settings, args.workers),
    )


def _dev(args: argparse.Namespace) -> None:
    from devstack.dev import run_dev_stack

    sys.exit(run_dev_stack())


DESCRIPTION = (
    "The SMS add-on billing service. Every setting is an environment variable "
    "(docs/operations.md); `make run` is `sms-addon dev`."
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sms-addon", description=DESCRIPTION)
    commands = parser.add_subparsers(
        title="commands", dest="command", metavar="COMMAND", required=True
    )
    commands.add_parser("migrate", help="bring the schema at DATABASE_URL to head").set_defaults(
        run=_migrate
    )
    commands.add_parser("worker", help="run the Temporal worker").set_defaults(run=_worker)
    api = commands.add_parser("api", help="serve the HTTP API")
    api.add_argument("--host", default=None)
    api.add_argument("--port", type=int, default=None)
    api.add_argument(
        "--workers",
        type=int,
        default=None,
        help="API processes sharing the port (default: SMS_API_WORKERS, else one per CPU)",
    )
    api.set_defaults(run=_api)
    commands.add_parser(
        "dev", help="the whole stack on this machine: Temporal dev server, worker, API, demo data"
    ).set_defaults(run=_dev)
    ops = commands.add_parser(
        "ops",
        help="operator actions through the admin API: refund, goodwill, retry-payment, "
        "cancel, audit (sms-addon ops --help)",
        add_help=False,
    )
    ops.add_argument("args", nargs="*")  # main() hands them to starter.cli.ops
    return parser


def main(argv: list[str] | None = None) -> None:
    settings = get_settings()
    configure_logging(settings.sms_log_format, settings.sms_log_level, secrets_of(settings))
    arguments = sys.argv[1:] if argv is None else argv
    if arguments[:1] == ["ops"]:  # its own parser: options may come before the action
        from starter.cli.ops import ops_main

        ops_main(arguments[1:])
    args = build_parser().parse_args(arguments)
    args.run(args)
