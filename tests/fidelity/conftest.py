"""Fixtures of the official-client conformance tests, and the index of behaviour markers.

The index maps each collected test under tests/emulator/ and tests/fidelity/ to the behaviour ids
its `@pytest.mark.behaviour(...)` markers name. tests/fidelity/test_manifest.py compares it with
emulator/fidelity.yaml.
"""

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from emulator import Workspace
from emulator.server import EmulatorServer

TESTS_ROOT = Path(__file__).resolve().parent.parent
INDEXED_DIRECTORIES = (TESTS_ROOT / "emulator", TESTS_ROOT / "fidelity")
# When set, collection also writes the index as JSON to this path (test_manifest uses it when the
# running session did not collect every indexed test file).
INDEX_PATH_VARIABLE = "EMULATOR_BEHAVIOUR_INDEX_PATH"
BEHAVIOUR_INDEX = pytest.StashKey[dict[str, dict[str, list[str] | str]]]()


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Record the behaviour ids of every indexed test, before any -k or -m deselection."""
    index: dict[str, dict[str, list[str] | str]] = {}
    for item in items:
        path = Path(item.path).resolve()
        if not any(path.is_relative_to(directory) for directory in INDEXED_DIRECTORIES):
            continue
        ids = [str(behaviour) for mark in item.iter_markers("behaviour") for behaviour in mark.args]
        index[item.nodeid] = {"file": str(path), "behaviours": ids}
    config.stash[BEHAVIOUR_INDEX] = index
    target = os.environ.get(INDEX_PATH_VARIABLE)
    if target:
        Path(target).write_text(json.dumps(index), encoding="utf-8")


@pytest.fixture
def live(workspace: Workspace) -> Iterator[EmulatorServer]:
    """The emulator of `workspace` on a real loopback socket."""
    with EmulatorServer(workspace) as server:
        yield server
