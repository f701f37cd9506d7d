"""Guardrail scans of long texts: the PII patterns must run in linear time.

The scan runs inside the request handler on the event loop, so a pattern that backtracks
quadratically on a long message would stall every other request to the emulator.
"""

import time

import httpx
import pytest

from emulator import Workspace
from emulator.gateway import find_pii, mask_pii

pytestmark = pytest.mark.anyio

FM_ENDPOINT = "databricks-claude-sonnet-4"
# Long enough that a quadratic email scan takes tens of seconds per request, against milliseconds in linear time.
LONG_WORD = "a" * 100_000


@pytest.mark.behaviour("gateway.pii")
@pytest.mark.parametrize("behavior", ["BLOCK", "MASK"])
async def test_pii_long_message_fast(emulator_http: httpx.AsyncClient, workspace: Workspace, behavior: str) -> None:
    gateway = {"guardrails": {"input": {"pii": {"behavior": behavior}}, "output": {"pii": {"behavior": behavior}}}}
    response = await emulator_http.put(f"/api/2.0/serving-endpoints/{FM_ENDPOINT}/ai-gateway", json=gateway)
    assert response.status_code == 200
    started = time.perf_counter()
    chat = {"messages": [{"role": "user", "content": f"{LONG_WORD} {LONG_WORD}@ {LONG_WORD}.x"}], "max_tokens": 5}
    query = await emulator_http.post(f"/serving-endpoints/{FM_ENDPOINT}/invocations", json=chat)
    elapsed = time.perf_counter() - started
    assert query.status_code == 200, query.text
    assert elapsed < 2.0


@pytest.mark.behaviour("gateway.pii")
@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("mail x!!abc@d.com now", "mail x!![EMAIL_ADDRESS] now"),
        ("a.b+c@sub.example.org", "[EMAIL_ADDRESS]"),
        ("abc@localhost and def@ok.io", "abc@localhost and [EMAIL_ADDRESS]"),
        ("@@a@b.co", "@@[EMAIL_ADDRESS]"),
        ("call 555-123-4567 or ops@x.y", "call [PHONE_NUMBER] or [EMAIL_ADDRESS]"),
        (f"{LONG_WORD}@example.com", "[EMAIL_ADDRESS]"),
    ],
)
def test_pii_patterns_match_emails(text: str, masked: str) -> None:
    assert mask_pii(text) == masked
    assert ("email address" in find_pii([text])) == ("[EMAIL_ADDRESS]" in masked)
