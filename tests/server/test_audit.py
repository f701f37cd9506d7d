import json
from pathlib import Path

from server.audit import REDACTED, AuditLog


def test_audit_appends_json_lines(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.jsonl")
    log.record("create_endpoint", "ep-a", "ok", {"request": {"name": "ep-a"}})
    log.record("delete_endpoint", "ep-a", "rejected", {})
    entries = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    assert [(e["tool"], e["target"], e["outcome"]) for e in entries] == [
        ("create_endpoint", "ep-a", "ok"),
        ("delete_endpoint", "ep-a", "rejected"),
    ]
    assert entries[0]["detail"] == {"request": {"name": "ep-a"}}


def test_audit_redacts_secrets_at_any_depth(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.jsonl")
    detail = {
        "served_entities": [
            {"external_model": {"openai_config": {"openai_api_key_plaintext": "sk-live", "openai_api_base": "b"}}}
        ],
        "Authorization": "Bearer dapi-x",
    }
    log.record("create_endpoint", "ep-b", "ok", detail)
    text = (tmp_path / "audit.jsonl").read_text()
    assert "sk-live" not in text
    assert "dapi-x" not in text
    entry = json.loads(text)
    config = entry["detail"]["served_entities"][0]["external_model"]["openai_config"]
    assert config["openai_api_key_plaintext"] == REDACTED
    assert config["openai_api_base"] == "b"


def test_audit_unwritable_path_does_not_raise(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "missing-dir" / "audit.jsonl")
    log.record("create_endpoint", "ep-c", "ok", {})
    assert not (tmp_path / "missing-dir").exists()
