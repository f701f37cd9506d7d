"""AI gateway enforcement on the scoring routes.

It covers rate limits (`ai_gateway.rate_limits` and the legacy `rate_limits`), the workspace QPS
limit of pay-per-token endpoints, PII and keyword guardrails, and usage tracking. Callers hold
`workspace.lock`.

Rate windows are fixed: a window opens with the first request counted against a limit and lasts
one renewal period on the virtual clock, so tests move time with `workspace.clock.advance`.
"""

import math
import re
from dataclasses import dataclass
from typing import Any

from emulator.dataplane import PrincipalUsage, RateWindow
from emulator.errors import ApiError
from emulator.query_formats import LlmRequest
from emulator.responders import LlmAnswer
from emulator.state import Endpoint, Principal

MINUTE_MS = 60_000
SECOND_MS = 1_000
WORKSPACE_QPS_WINDOW = "workspace-qps"

# The lookbehind lets a match start only where a run of local-part characters starts. Without it the
# search retried from every position inside a long run, which took quadratic time.
EMAIL_PATTERN = re.compile(r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
# Phone-like: 3-3-4 digit groups split by spaces, dots or dashes, optionally "(555)" and a "+1" prefix.
# A bare run of ten digits is not matched, so ids and amounts pass.
PHONE_PATTERN = re.compile(r"(?<![\w+])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{3}\)\s?|\d{3}[\s.-])\d{3}[\s.-]\d{4}(?!\w)")
PII_KINDS = (("email address", EMAIL_PATTERN, "[EMAIL_ADDRESS]"), ("phone number", PHONE_PATTERN, "[PHONE_NUMBER]"))


@dataclass
class AppliedLimit:
    """One rate limit that applies to the caller, and the window it counts in."""

    window_id: str
    scope: str
    calls: int | None
    tokens: int | None


def too_many_requests(message: str, retry_after_s: int) -> ApiError:
    return ApiError(429, "REQUEST_LIMIT_EXCEEDED", message, headers={"Retry-After": str(retry_after_s)})


def _open_window(endpoint: Endpoint, window_id: str, now_ms: int, period_ms: int) -> RateWindow:
    windows = endpoint.data_plane.rate_windows
    window = windows.get(window_id)
    if window is None or now_ms >= window.start_ms + period_ms:
        window = windows[window_id] = RateWindow(start_ms=now_ms)
    return window


def _retry_after_s(window: RateWindow, now_ms: int, period_ms: int) -> int:
    return max(1, math.ceil((window.start_ms + period_ms - now_ms) / 1000))


def check_workspace_qps(endpoint: Endpoint, now_ms: int) -> None:
    """Count one request against the workspace QPS limit of a pay-per-token endpoint, or raise 429."""
    limit = endpoint.behaviour.workspace_qps_limit
    if not endpoint.system or limit is None:
        return
    window = _open_window(endpoint, WORKSPACE_QPS_WINDOW, now_ms, SECOND_MS)
    if window.calls >= limit:
        raise too_many_requests(
            f"Exceeded workspace QPS rate limit for {endpoint.name}. Please use a provisioned throughput "
            "Foundation Model APIs endpoint for a higher rate limit.",
            _retry_after_s(window, now_ms, SECOND_MS),
        )
    window.calls += 1


def applicable_limits(endpoint: Endpoint, principal: Principal) -> list[AppliedLimit]:
    """Return the rate limits that apply to `principal` on `endpoint`.

    A limit for key `user` or `service_principal` that names the caller replaces the default
    limit of that key (the one without `principal`). A `user_group` limit is shared by all
    members of the group.
    """
    gateway_limits = list((endpoint.ai_gateway or {}).get("rate_limits") or [])
    legacy_limits = list(endpoint.rate_limits or [])
    sources = [("gateway", limit) for limit in gateway_limits] + [("legacy", limit) for limit in legacy_limits]
    named = {(limit.get("key"), limit.get("principal")) for _, limit in sources if limit.get("principal")}
    applied: list[AppliedLimit] = []
    for source, limit in sources:
        subject = _limit_subject(limit, principal, named)
        if subject is None:
            continue
        applied.append(
            AppliedLimit(
                window_id=f"{source}:{limit.get('key', 'endpoint')}:{limit.get('principal') or '*'}:{subject}",
                scope=_scope_words(limit.get("key", "endpoint"), subject),
                calls=limit.get("calls"),
                tokens=limit.get("tokens"),
            )
        )
    return applied


def _limit_subject(limit: dict[str, Any], principal: Principal, named: set[tuple[Any, Any]]) -> str | None:
    """Return whose counter a limit uses for this caller, or None when the limit does not apply to the caller."""
    key = limit.get("key", "endpoint")
    target = limit.get("principal")
    if key == "endpoint":
        return "endpoint"
    if key == "user_group":
        return target if target in principal.groups else None
    principal_kind = {"user": "user", "service_principal": "service_principal"}.get(key)
    if principal_kind is None or principal.kind != principal_kind:
        return None
    if target:
        return principal.name if target == principal.name else None
    return None if (key, principal.name) in named else principal.name


def _scope_words(key: str, subject: str) -> str:
    if key == "endpoint":
        return "the endpoint"
    words = {"user": "user", "user_group": "group", "service_principal": "service principal"}[key]
    return f"{words} '{subject}'"


def admit(endpoint: Endpoint, principal: Principal, now_ms: int) -> list[AppliedLimit]:
    """Count one call against every applicable rate limit, or raise 429 and count nothing."""
    limits = applicable_limits(endpoint, principal)
    for limit in limits:
        window = _open_window(endpoint, limit.window_id, now_ms, MINUTE_MS)
        exceeded = None
        if limit.calls is not None and window.calls >= limit.calls:
            exceeded = f"{limit.calls} calls per minute"
        elif limit.tokens is not None and window.tokens >= limit.tokens:
            exceeded = f"{limit.tokens} tokens per minute"
        if exceeded is not None:
            raise too_many_requests(
                f"Exceeded the AI gateway rate limit of {exceeded} for {limit.scope} on endpoint '{endpoint.name}'.",
                _retry_after_s(window, now_ms, MINUTE_MS),
            )
    for window_id in {limit.window_id for limit in limits}:
        endpoint.data_plane.rate_windows[window_id].calls += 1
    return limits


def charge_tokens(endpoint: Endpoint, limits: list[AppliedLimit], now_ms: int, tokens: int) -> None:
    """Add the tokens of a finished request to the windows of the limits it was admitted under."""
    for window_id in {limit.window_id for limit in limits if limit.tokens is not None}:
        _open_window(endpoint, window_id, now_ms, MINUTE_MS).tokens += tokens


def usage_tracking_enabled(endpoint: Endpoint) -> bool:
    tracking = (endpoint.ai_gateway or {}).get("usage_tracking_config") or {}
    return tracking.get("enabled") is True


def record_usage(endpoint: Endpoint, principal: Principal, prompt_tokens: int, completion_tokens: int) -> None:
    """Count one served request of `principal` while usage tracking is enabled."""
    if not usage_tracking_enabled(endpoint):
        return
    usage = endpoint.data_plane.usage_by_principal.setdefault(principal.name, PrincipalUsage())
    usage.requests += 1
    usage.prompt_tokens += prompt_tokens
    usage.completion_tokens += completion_tokens


def usage_by_principal(endpoint: Endpoint) -> dict[str, dict[str, int]]:
    """Return the tracked usage per principal name, as plain numbers (for metrics and tests)."""
    return {
        name: {
            "requests": usage.requests,
            "prompt_tokens": usage.prompt_tokens,
            "completion_tokens": usage.completion_tokens,
            "total_tokens": usage.total_tokens,
        }
        for name, usage in sorted(endpoint.data_plane.usage_by_principal.items())
    }


def _guardrail(endpoint: Endpoint, direction: str) -> dict[str, Any]:
    guardrails = (endpoint.ai_gateway or {}).get("guardrails") or {}
    value = guardrails.get(direction) or {}
    return value if isinstance(value, dict) else {}


def _pii_behavior(settings: dict[str, Any]) -> str:
    pii = settings.get("pii") or {}
    return str(pii.get("behavior", "NONE")) if isinstance(pii, dict) else "NONE"


def find_pii(texts: list[str]) -> dict[str, int]:
    """Count the email addresses and phone numbers in `texts`, by kind."""
    found: dict[str, int] = {}
    for kind, pattern, _ in PII_KINDS:
        count = sum(len(pattern.findall(text)) for text in texts)
        if count:
            found[kind] = count
    return found


def mask_pii(text: str) -> str:
    for _, pattern, placeholder in PII_KINDS:
        text = pattern.sub(placeholder, text)
    return text


def _describe(found: dict[str, int]) -> str:
    """Name the PII kinds found, e.g. "2 email addresses and 1 phone number"."""
    parts = []
    for kind, count in found.items():
        plural = kind + ("es" if kind.endswith("ss") else "s")
        parts.append(f"{count} {kind if count == 1 else plural}")
    return " and ".join(parts)


# NOTE: the `safety` and `valid_topics` guardrails are stored but not enforced by the emulator.
def screen_input(endpoint: Endpoint, request: LlmRequest) -> None:
    """Apply the input guardrails: block on a listed keyword or PII (BLOCK), or mask PII in place (MASK)."""
    settings = _guardrail(endpoint, "input")
    lowered = [text.lower() for text in request.texts]
    for keyword in settings.get("invalid_keywords") or []:
        if any(str(keyword).lower() in text for text in lowered):
            raise ApiError(
                400,
                "BAD_REQUEST",
                f"Input blocked by the AI gateway guardrail of endpoint '{endpoint.name}': the request contains "
                f"the invalid keyword '{keyword}'.",
            )
    behavior = _pii_behavior(settings)
    if behavior == "BLOCK":
        found = find_pii(request.texts)
        if found:
            raise ApiError(
                400,
                "BAD_REQUEST",
                f"Input blocked by the AI gateway PII guardrail of endpoint '{endpoint.name}': the request contains "
                f"personal data ({_describe(found)}). Remove it, or ask an endpoint manager to change "
                "ai_gateway.guardrails.input.pii.behavior.",
            )
    elif behavior == "MASK":
        request.texts = [mask_pii(text) for text in request.texts]


def screen_output(endpoint: Endpoint, answer: LlmAnswer) -> None:
    """Apply the output PII guardrail to the generated texts: raise 400 (BLOCK) or mask them (MASK)."""
    behavior = _pii_behavior(_guardrail(endpoint, "output"))
    if behavior == "BLOCK":
        found = find_pii([choice.text for choice in answer.choices])
        if found:
            raise ApiError(
                400,
                "BAD_REQUEST",
                f"Output blocked by the AI gateway PII guardrail of endpoint '{endpoint.name}': the response "
                f"contains personal data ({_describe(found)}).",
            )
    elif behavior == "MASK":
        for choice in answer.choices:
            choice.text = mask_pii(choice.text)
