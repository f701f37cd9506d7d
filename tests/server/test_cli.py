from dataclasses import fields
from pathlib import Path

import pytest

from server.cli import build_parser
from server.settings import Settings


def test_cli_has_flag_for_every_setting() -> None:
    parser = build_parser()
    args = parser.parse_args(["serve"])
    for setting in fields(Settings):
        assert hasattr(args, setting.name), setting.name
        assert getattr(args, setting.name) is None, setting.name


def test_cli_flags_parse_types() -> None:
    args = build_parser().parse_args(
        ["serve", "--read-only", "--port", "9001", "--wait-budget-seconds", "12.5", "--protected-endpoints", "prod-*"]
    )
    assert args.read_only is True
    assert args.http_port == 9001
    assert args.wait_budget_seconds == 12.5
    assert args.protected_endpoints == "prod-*"


def test_cli_rejects_unknown_transport() -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["serve", "--transport", "websocket"])


def test_readme_lists_every_setting() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    for setting in fields(Settings):
        assert f"| `{setting.name}` | `--{setting.name.replace('_', '-')}` |" in readme, setting.name
