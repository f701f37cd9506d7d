"""The fidelity manifest (emulator/fidelity.yaml) against the behaviour markers of the emulator tests.

The tests of this module check the manifest itself, so they are the only ones under tests/emulator/
and tests/fidelity/ that name no behaviour.
"""

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from emulator.fidelity import Behaviour, ManifestError, load_manifest, parse_manifest, read_manifest_text
from tests.fidelity.conftest import BEHAVIOUR_INDEX, INDEX_PATH_VARIABLE, INDEXED_DIRECTORIES, TESTS_ROOT

THIS_FILE = Path(__file__).resolve()
COLLECT_TIMEOUT_SECONDS = 120


@pytest.fixture(scope="module")
def manifest() -> list[Behaviour]:
    return load_manifest()


@pytest.fixture(scope="module")
def index(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Map node id -> {file, behaviours} for every test under the indexed directories, this module excluded.

    A whole-suite run has recorded the index during collection. A run that collected only part of
    the indexed files (for example this module alone) collects them again in a subprocess.
    """
    recorded: dict[str, Any] = request.config.stash.get(BEHAVIOUR_INDEX, {})
    expected_files = {str(path.resolve()) for d in INDEXED_DIRECTORIES for path in d.glob("test_*.py")}
    if not expected_files <= {entry["file"] for entry in recorded.values()}:
        recorded = collect_index(tmp_path_factory.mktemp("behaviour-index") / "index.json")
    return {node: entry for node, entry in recorded.items() if entry["file"] != str(THIS_FILE)}


def collect_index(target: Path) -> dict[str, Any]:
    directories = [str(d) for d in INDEXED_DIRECTORIES]
    command = [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *directories]
    environment = {**os.environ, INDEX_PATH_VARIABLE: str(target)}
    completed = subprocess.run(
        command,
        cwd=TESTS_ROOT.parent,
        env=environment,
        capture_output=True,
        text=True,
        timeout=COLLECT_TIMEOUT_SECONDS,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    collected: dict[str, Any] = json.loads(target.read_text(encoding="utf-8"))
    return collected


def test_manifest_ids_unique_and_dotted(manifest: list[Behaviour]) -> None:
    ids = [entry.id for entry in manifest]
    assert len(ids) == len(set(ids))
    assert all("." in entry_id for entry_id in ids)


def test_manifest_sources_named_in_words() -> None:
    text = read_manifest_text()
    assert "/work/" not in text
    assert "shared/reference" not in text


def test_manifest_tests_name_behaviours(index: dict[str, Any]) -> None:
    unnamed = sorted(node for node, entry in index.items() if not entry["behaviours"])
    assert unnamed == [], "Tests that name no behaviour; add @pytest.mark.behaviour(...) with manifest ids."


def test_manifest_named_ids_exist(index: dict[str, Any], manifest: list[Behaviour]) -> None:
    known = {entry.id for entry in manifest}
    unknown = sorted(
        (behaviour, node)
        for node, entry in index.items()
        for behaviour in entry["behaviours"]
        if behaviour not in known
    )
    assert unknown == [], "Tests name behaviour ids missing from emulator/fidelity.yaml."


def test_manifest_behaviours_have_tests(index: dict[str, Any], manifest: list[Behaviour]) -> None:
    named = {behaviour for entry in index.values() for behaviour in entry["behaviours"]}
    untested = sorted(entry.id for entry in manifest if entry.deferred is None and entry.id not in named)
    assert untested == [], "Behaviours that are not deferred but no test names; test them or mark them deferred."


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("behaviours: {}", "'behaviours' list"),
        ("behaviours:\n- id: a.b\n  behaviour: x\n", r"behaviours\[0\]\.source is missing"),
        ("behaviours:\n- {id: Bad Id, behaviour: x, source: y}\n", "id 'Bad Id' is invalid"),
        ("behaviours:\n- {id: a.b, behaviour: x, source: y, notes: z}\n", r"unknown field\(s\) \['notes'\]"),
        ("behaviours:\n- {id: a.b, behaviour: x, source: y, deferred: ''}\n", "deferred must be a non-empty"),
        ("behaviours:\n- {id: a.b, behaviour: x, source: y}\n- {id: a.b, behaviour: x, source: y}\n", "more than once"),
    ],
)
def test_manifest_parser_rejects_malformed(document: str, message: str) -> None:
    with pytest.raises(ManifestError, match=message):
        parse_manifest(document)
