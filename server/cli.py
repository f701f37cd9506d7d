"""Command line: `databricks-serving-mcp serve | emulator | demo`."""

import argparse
import logging
import sys
from collections.abc import Sequence

from server.logs import configure_logging
from server.settings import SettingsError, load_settings

logger = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="databricks-serving-mcp", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the MCP server (stdio by default)")
    serve.add_argument("--transport", choices=["stdio", "http"], help="stdio (default) or streamable HTTP")
    serve.add_argument("--port", dest="http_port", type=int, help="HTTP port on 127.0.0.1 (default 8000)")
    serve.add_argument("--profile", help="databricks-sdk profile in ~/.databrickscfg")
    serve.add_argument("--host", help="workspace URL, for example https://<workspace>.cloud.databricks.com")
    serve.add_argument("--sandbox", action="store_true", default=None, help="serve against the embedded emulator")
    serve.add_argument("--scenario", dest="sandbox_scenario", help="emulator scenario file (with --sandbox)")
    serve.add_argument("--time-scale", dest="sandbox_time_scale", type=float, help="emulator clock speed-up")
    serve.add_argument("--read-only", action="store_true", default=None, help="hide nothing, but refuse all changes")
    serve.add_argument("--config", dest="config_file", help="TOML settings file")
    serve.add_argument("--audit-log", dest="audit_log", help="append one JSON line per mutating call to this file")
    serve.add_argument("--log-level", dest="log_level", help="DEBUG, INFO, WARNING or ERROR")

    emulator = commands.add_parser("emulator", help="run the workspace emulator alone")
    emulator.add_argument("--port", type=int, default=8765, help="port on 127.0.0.1 (default 8765)")
    emulator.add_argument("--scenario", help="scenario file (JSON or YAML) applied over the seed workspace")
    emulator.add_argument("--time-scale", type=float, default=1.0, help="virtual seconds per real second")

    demo = commands.add_parser("demo", help="run the whole serving workflow against the emulator")
    demo.add_argument("--time-scale", type=float, default=120.0, help="emulator clock speed-up (default 120)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "serve":
            return run_serve(args)
        if args.command == "emulator":
            return run_emulator(args)
        return run_demo(args)
    except SettingsError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    except KeyboardInterrupt:
        return 130


def run_serve(args: argparse.Namespace) -> int:
    options = {k: v for k, v in vars(args).items() if k not in ("command", "config_file")}
    settings = load_settings(options, config_file=args.config_file)
    configure_logging(settings.log_level)
    from server.app import build_server

    server = build_server(settings)
    if settings.transport == "http":
        server.run("streamable-http", host=settings.http_host, port=settings.http_port)
    else:
        server.run("stdio")
    return 0


def run_emulator(args: argparse.Namespace) -> int:
    configure_logging("INFO")
    import uvicorn

    from emulator import create_app, seeded_workspace

    workspace = seeded_workspace(args.scenario, time_scale=args.time_scale)
    logger.info("Emulator on http://127.0.0.1:%d (token: see the README's sandbox section)", args.port)
    uvicorn.run(create_app(workspace), host="127.0.0.1", port=args.port, log_level="warning")
    return 0


def run_demo(args: argparse.Namespace) -> int:
    configure_logging("WARNING")
    from server.demo import run

    return run(time_scale=args.time_scale)


if __name__ == "__main__":
    sys.exit(main())
