"""Hostile request bodies: deep nesting, invalid UTF-8, NaN and out-of-range numbers.

Each must get a Databricks-shaped 400 from every route that reads a body (or the OAuth error
shape from the token route), be recorded in the request log, and leave the emulator serving.
"""

import httpx
import pytest

from emulator import SANDBOX_TOKEN, Workspace, create_app

pytestmark = pytest.mark.anyio

FM_ENDPOINT = "databricks-claude-sonnet-4"
TURBINE = {"entity_name": "main.default.turbine_failure", "entity_version": "1", "scale_to_zero_enabled": True}
# Routes that parse a JSON body, one per body-reading module.
BODY_ROUTES = [
    ("POST", "/api/2.0/serving-endpoints"),
    ("PUT", f"/api/2.0/serving-endpoints/{FM_ENDPOINT}/config"),
    ("POST", "/api/2.0/serving-endpoints/pt"),
    ("PATCH", f"/api/2.0/serving-endpoints/{FM_ENDPOINT}/tags"),
    ("POST", f"/serving-endpoints/{FM_ENDPOINT}/invocations"),
    ("POST", "/serving-endpoints/chat/completions"),
    ("PATCH", "/api/2.0/permissions/serving-endpoints/" + "0" * 32),
    ("POST", "/api/2.1/unity-catalog/models"),
    ("POST", "/__emulator__/scenario"),
    ("POST", "/__emulator__/faults"),
    ("POST", "/__emulator__/clock/advance"),
]
# Deeper than Python's recursion limit, so json.loads raises RecursionError.
DEEP_ARRAY = b"[" * 100_000 + b"]" * 100_000
# Shallow enough for json.loads, deep enough to overflow the recursive redaction of the request log.
DEEP_FIELD = b'{"name": "ep-deep", "tags": ' + b"[" * 600 + b"]" * 600 + b"}"
NESTED_101 = b'{"inputs": ' + b"[" * 100 + b"1" + b"]" * 100 + b"}"
MALFORMED_BODIES = {
    "deep array": (DEEP_ARRAY, "nested more than 100 levels"),
    "deep field": (DEEP_FIELD, "nested more than 100 levels"),
    "101 levels": (NESTED_101, "nested more than 100 levels"),
    "invalid utf-8": (b'{"name": "\xff"}', "not valid UTF-8"),
    "utf-16 bom": (b"\xff\xfe{\x00}\x00", "not valid UTF-8"),
    "nan": (b'{"name": NaN}', "NaN is not a JSON value"),
    "infinity": (b'{"seconds": -Infinity}', "-Infinity is not a JSON value"),
    "float overflow": (b'{"seconds": 1e309}', "out of range"),
    "long integer": (b'{"seconds": ' + b"9" * 5_000 + b"}", "out of range"),
}


def assert_malformed(response: httpx.Response, expected: str) -> None:
    assert response.status_code == 400, response.text
    body = response.json()
    assert set(body) == {"error_code", "message", "details"}
    assert body["error_code"] == "MALFORMED_REQUEST"
    assert expected in body["message"]


@pytest.mark.behaviour("errors.malformed-body", "errors.nesting-limit")
@pytest.mark.parametrize(("content", "expected"), MALFORMED_BODIES.values(), ids=MALFORMED_BODIES.keys())
@pytest.mark.parametrize(("method", "path"), BODY_ROUTES, ids=[f"{m} {p}" for m, p in BODY_ROUTES])
async def test_body_malformed_rejected(
    emulator_http: httpx.AsyncClient, method: str, path: str, content: bytes, expected: str
) -> None:
    response = await emulator_http.request(method, path, content=content)
    assert_malformed(response, expected)
    follow_up = await emulator_http.get(f"/api/2.0/serving-endpoints/{FM_ENDPOINT}")
    assert follow_up.status_code == 200


@pytest.mark.behaviour("errors.nesting-limit", "admin.request-log")
async def test_body_deep_logged_as_text(emulator_http: httpx.AsyncClient, workspace: Workspace) -> None:
    response = await emulator_http.post("/api/2.0/serving-endpoints", content=DEEP_FIELD)
    assert response.status_code == 400
    [record] = workspace.request_log
    assert record.status == 400
    assert record.body == DEEP_FIELD.decode()


@pytest.mark.behaviour("errors.nesting-limit")
async def test_body_100_levels_accepted(emulator_http: httpx.AsyncClient, workspace: Workspace) -> None:
    created = await emulator_http.post(
        "/api/2.0/serving-endpoints", json={"name": "ep-t", "config": {"served_entities": [TURBINE]}}
    )
    assert created.status_code == 200
    workspace.clock.advance(3600)
    tensor = b"[" * 99 + b"1.5" + b"]" * 99
    response = await emulator_http.post("/serving-endpoints/ep-t/invocations", content=b'{"inputs": ' + tensor + b"}")
    assert response.status_code == 200, response.text
    assert response.json() == {"predictions": [1]}


TOKEN_BODIES = {
    "deep": (DEEP_ARRAY, "invalid_request", "grant_type is missing"),
    "utf-16": (b"\xff\xfe", "invalid_request", "grant_type is missing"),
    "percents": (b"%" * 1000, "invalid_request", "grant_type is missing"),
    "json": (b'{"grant_type": "client_credentials"}', "invalid_request", "grant_type is missing"),
    "repeated": (b"grant_type=client_credentials&grant_type=password", "invalid_request", "['grant_type']"),
    "empty grant": (b"grant_type=&scope=all-apis", "invalid_request", "grant_type is missing"),
    "password grant": (b"grant_type=password", "unsupported_grant_type", "'password'"),
}


@pytest.mark.behaviour("auth.oauth-errors", "errors.nesting-limit")
@pytest.mark.parametrize(("content", "error", "expected"), TOKEN_BODIES.values(), ids=TOKEN_BODIES.keys())
async def test_token_body_rejected(
    emulator_http: httpx.AsyncClient, workspace: Workspace, content: bytes, error: str, expected: str
) -> None:
    response = await emulator_http.post(
        "/oidc/v1/token", content=content, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert response.status_code == 400
    assert set(response.json()) == {"error", "error_description"}
    assert response.json()["error"] == error
    assert expected in response.json()["error_description"]
    assert workspace.request_log[-1].status == 400


@pytest.mark.behaviour("faults.matching", "errors.nesting-limit")
async def test_fault_matcher_reads_deep_body(emulator_http: httpx.AsyncClient) -> None:
    added = await emulator_http.post("/__emulator__/faults", json={"kind": "status", "endpoint": "ep-x", "status": 503})
    assert added.status_code == 200
    response = await emulator_http.post("/api/2.0/serving-endpoints", content=DEEP_ARRAY)
    assert_malformed(response, "nested more than 100 levels")


@pytest.mark.behaviour("errors.malformed-body")
@pytest.mark.parametrize("value", ["NaN", "Infinity", "1e400"])
async def test_body_nonfinite_fixed_response(emulator_http: httpx.AsyncClient, value: str) -> None:
    content = ('{"response": {"score": ' + value + "}}").encode()
    response = await emulator_http.put(f"/__emulator__/endpoints/{FM_ENDPOINT}/behaviour", content=content)
    assert response.status_code == 400
    assert response.json()["error_code"] == "MALFORMED_REQUEST"
    query = await emulator_http.post(
        f"/serving-endpoints/{FM_ENDPOINT}/invocations", json={"messages": [{"role": "user", "content": "hi"}]}
    )
    assert query.status_code == 200
    assert query.json()["object"] == "chat.completion"


@pytest.mark.behaviour("query.custom-model")
async def test_invocation_50k_rows(emulator_http: httpx.AsyncClient, workspace: Workspace) -> None:
    created = await emulator_http.post(
        "/api/2.0/serving-endpoints", json={"name": "ep-t", "config": {"served_entities": [TURBINE]}}
    )
    assert created.status_code == 200
    workspace.clock.advance(3600)
    rows = [{"vibration": 0.5, "rpm": 1000.0, "temp_c": float(i % 7)} for i in range(50_000)]
    response = await emulator_http.post("/serving-endpoints/ep-t/invocations", json={"dataframe_records": rows})
    assert response.status_code == 200
    predictions = response.json()["predictions"]
    assert len(predictions) == 50_000
    assert predictions[:3] == [1000, 1001, 1002]


@pytest.mark.behaviour("errors.internal")
async def test_handler_failure_databricks_shaped(workspace: Workspace) -> None:
    # Corrupt state that no request can create: a served entity without its name.
    config = workspace.endpoints[FM_ENDPOINT].config
    assert config is not None
    config.served_entities[0].pop("name")
    transport = httpx.ASGITransport(app=create_app(workspace), raise_app_exceptions=False)
    headers = {"Authorization": f"Bearer {SANDBOX_TOKEN}"}
    async with httpx.AsyncClient(transport=transport, base_url="http://emulator.local", headers=headers) as http:
        response = await http.get(f"/api/2.0/serving-endpoints/{FM_ENDPOINT}")
        follow_up = await http.get("/api/2.0/serving-endpoints/databricks-gte-large-en")
    assert response.status_code == 500
    body = response.json()
    assert set(body) == {"error_code", "message", "details"}
    assert body["error_code"] == "INTERNAL_ERROR"
    assert "KeyError" not in body["message"]
    assert workspace.request_log[0].status == 500
    assert follow_up.status_code == 200
