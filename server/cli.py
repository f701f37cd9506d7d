"""Command line: `databricks-serving-mcp serve | emulator | demo`."""

import argparse
import logging
import sys
from collections.abc import Sequence
from dataclasses import fields

from server.logs import configure_logging
from server.settings import Settings, SettingsError, load_settings

logger = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="databricks-serving-mcp", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the MCP server (stdio by default)")
    add_setting_flags(serve)
    serve.add_argument("--config", dest="config_file", help="TOML settings file")

    emulator = commands.add_parser("emulator", help="run the workspace emulator alone")
    emulator.add_argument("--port", type=int, default=8765, help="port on 127.0.0.1 (default 8765)")
    emulator.add_argument("--scenario", help="scenario file (JSON or YAML) applied over the seed workspace")
    emulator.add_argument("--time-scale", type=float, default=1.0, help="virtual seconds per real second")

    demo = commands.add_parser("demo", help="run the whole serving workflow against the emulator")
    demo.add_argument("--time-scale", type=float, default=120.0, help="emulator clock speed-up (default 120)")
    return parser


# Short spellings kept next to the long flag that each setting gets.
FLAG_ALIASES = {
    "http_port": ["--port"],
    "sandbox_scenario": ["--scenario"],
    "sandbox_time_scale": ["--time-scale"],
}


def add_setting_flags(parser: argparse.ArgumentParser) -> None:
    """Add one flag per Settings field, so the CLI, the environment and the TOML file match."""
    for setting in fields(Settings):
        flags = [f"--{setting.name.replace('_', '-')}", *FLAG_ALIASES.get(setting.name, [])]
        help_text = setting.metadata.get("help", "")
        default = setting.default
        if isinstance(default, bool):
            parser.add_argument(*flags, dest=setting.name, action="store_true", default=None, help=help_text)
            continue
        kind = type(default) if isinstance(default, int | float) else str
        if setting.name == "transport":
            parser.add_argument(*flags, dest=setting.name, choices=["stdio", "http"], help=help_text)
        else:
            parser.add_argument(*flags, dest=setting.name, type=kind, default=None, help=help_text)


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
    logger.info("Emulator on http://127.0.0.1:%d; the tokens are listed in the README's emulator section", args.port)
    uvicorn.run(create_app(workspace), host="127.0.0.1", port=args.port, log_level="warning")
    return 0


def run_demo(args: argparse.Namespace) -> int:
    configure_logging("WARNING")
    from server.demo import run

    return run(time_scale=args.time_scale)


if __name__ == "__main__":
    sys.exit(main())
