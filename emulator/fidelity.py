"""The fidelity manifest (emulator/fidelity.yaml): what the emulator does, what it is based on, and its gaps."""

import re
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml

ID_PATTERN = re.compile(r"[a-z0-9-]+(\.[a-z0-9-]+)+")
REQUIRED_FIELDS = ("id", "behaviour", "source")
OPTIONAL_FIELDS = ("divergence", "deferred")


class ManifestError(ValueError):
    """A manifest entry that is malformed; the message names the entry and the field."""


@dataclass(frozen=True)
class Behaviour:
    """One manifest entry."""

    id: str
    behaviour: str
    source: str
    # How the emulator differs from the real service, or what about the real service is not known.
    divergence: str | None = None
    # Why the behaviour is not emulated yet, or None when it is.
    deferred: str | None = None


def read_manifest_text() -> str:
    return resources.files("emulator").joinpath("fidelity.yaml").read_text(encoding="utf-8")


def parse_manifest(text: str) -> list[Behaviour]:
    """Parse and check a manifest document, raising ManifestError for the first malformed entry."""
    data = yaml.safe_load(text)
    if not isinstance(data, dict) or not isinstance(data.get("behaviours"), list):
        raise ManifestError("The manifest must be a mapping with a 'behaviours' list.")
    entries = [_entry(index, raw) for index, raw in enumerate(data["behaviours"])]
    seen: set[str] = set()
    for entry in entries:
        if entry.id in seen:
            raise ManifestError(f"Behaviour id '{entry.id}' appears more than once.")
        seen.add(entry.id)
    return entries


def load_manifest() -> list[Behaviour]:
    """Return the entries of the manifest that ships with the emulator package."""
    return parse_manifest(read_manifest_text())


def _entry(index: int, raw: Any) -> Behaviour:
    where = f"behaviours[{index}]"
    if not isinstance(raw, dict):
        raise ManifestError(f"{where} must be a mapping, got {type(raw).__name__}.")
    unknown = sorted(set(raw) - {*REQUIRED_FIELDS, *OPTIONAL_FIELDS})
    if unknown:
        raise ManifestError(f"{where} has unknown field(s) {unknown}. Allowed: {[*REQUIRED_FIELDS, *OPTIONAL_FIELDS]}.")
    for field in REQUIRED_FIELDS:
        if not isinstance(raw.get(field), str) or not raw[field].strip():
            raise ManifestError(f"{where}.{field} is missing or empty.")
    for field in OPTIONAL_FIELDS:
        if field in raw and (not isinstance(raw[field], str) or not raw[field].strip()):
            raise ManifestError(f"{where}.{field} must be a non-empty string when present.")
    if not ID_PATTERN.fullmatch(raw["id"]):
        raise ManifestError(
            f"{where}.id '{raw['id']}' is invalid: use dotted lowercase words, for example 'create.duplicate-name'."
        )
    return Behaviour(**{key: raw[key] for key in raw})
