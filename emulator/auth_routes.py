"""Host metadata, OIDC discovery and the OAuth client-credentials token endpoint.

databricks-sdk reads GET /.well-known/databricks-config when it builds a `Config`, derives the
discovery URL `<oidc_endpoint>/.well-known/oauth-authorization-server` from it, and for OAuth M2M
posts `grant_type=client_credentials&scope=all-apis` with HTTP Basic client credentials to the
discovered `token_endpoint`. Token errors use the OAuth 2.0 shape `{error, error_description}`.
"""

import base64
import binascii
import logging
import secrets
from urllib.parse import parse_qs, unquote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from emulator.requests import workspace_of
from emulator.state import OAuthClient, Workspace

logger = logging.getLogger(__name__)

TOKEN_LIFETIME_SECONDS = 3600
SUPPORTED_SCOPES = {"all-apis", "offline_access"}


def _base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


async def host_metadata(request: Request) -> Response:
    workspace = workspace_of(request)
    return JSONResponse(
        {
            "oidc_endpoint": f"{_base_url(request)}/oidc",
            "workspace_id": workspace.workspace_id,
            "account_id": workspace.account_id,
            "cloud": workspace.cloud,
        }
    )


async def oidc_discovery(request: Request) -> Response:
    """Return the RFC 8414 authorization server metadata of the workspace."""
    oidc = f"{_base_url(request)}/oidc"
    return JSONResponse(
        {
            "issuer": oidc,
            "authorization_endpoint": f"{oidc}/v1/authorize",
            "token_endpoint": f"{oidc}/v1/token",
            "grant_types_supported": ["client_credentials"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "response_types_supported": ["code"],
            "scopes_supported": sorted(SUPPORTED_SCOPES),
        }
    )


def _oauth_error(status: int, error: str, description: str) -> JSONResponse:
    headers = {"WWW-Authenticate": 'Basic realm="oidc"'} if status == 401 else None
    return JSONResponse({"error": error, "error_description": description}, status_code=status, headers=headers)


def _client_credentials(request: Request, form: dict[str, str]) -> tuple[str, str] | None:
    """Return (client_id, client_secret) from HTTP Basic auth, else from the form (client_secret_post)."""
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "basic" and encoded:
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        client_id, separator, secret = decoded.partition(":")
        # RFC 6749 section 2.3.1: both parts are form-urlencoded before Basic encoding.
        return (unquote(client_id), unquote(secret)) if separator else None
    if form.get("client_id") and form.get("client_secret"):
        return form["client_id"], form["client_secret"]
    return None


def _authenticate_client(workspace: Workspace, credentials: tuple[str, str] | None) -> OAuthClient | None:
    if credentials is None:
        return None
    client = workspace.oauth_clients.get(credentials[0])
    if client is None or not secrets.compare_digest(client.secret, credentials[1]):
        return None
    return client


async def issue_token(request: Request) -> Response:
    workspace = workspace_of(request)
    raw = (await request.body()).decode("utf-8", errors="replace")
    parsed = parse_qs(raw)
    # RFC 6749 section 5.2: a missing or repeated parameter is invalid_request.
    repeated = sorted(key for key, values in parsed.items() if len(values) > 1)
    if repeated:
        return _oauth_error(400, "invalid_request", f"Parameter(s) {repeated} are repeated. Send each parameter once.")
    form = {key: values[0] for key, values in parsed.items()}
    if "grant_type" not in form:
        return _oauth_error(
            400, "invalid_request", "Parameter grant_type is missing. Send grant_type=client_credentials."
        )
    grant_type = form["grant_type"]
    if grant_type != "client_credentials":
        return _oauth_error(
            400, "unsupported_grant_type", f"Grant type {grant_type!r} is not supported; use client_credentials."
        )
    scopes = set(form.get("scope", "all-apis").split())
    unknown = sorted(scopes - SUPPORTED_SCOPES)
    if unknown:
        return _oauth_error(400, "invalid_scope", f"Unknown scope(s) {unknown}; request scope all-apis.")
    with workspace.lock:
        credentials = _client_credentials(request, form)
        client = _authenticate_client(workspace, credentials)
        if client is None:
            logger.info("OAuth client authentication failed for client id %r", credentials[0] if credentials else None)
            return _oauth_error(401, "invalid_client", "Client authentication failed: unknown client id or secret.")
        access_token = f"emulator-oauth-{secrets.token_urlsafe(24)}"
        # NOTE: the token never expires here, although the response announces TOKEN_LIFETIME_SECONDS.
        workspace.tokens[access_token] = client.principal
    return JSONResponse(
        {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": TOKEN_LIFETIME_SECONDS,
            "scope": " ".join(sorted(scopes)),
        }
    )


routes = [
    Route("/.well-known/databricks-config", host_metadata, methods=["GET"]),
    Route("/oidc/.well-known/oauth-authorization-server", oidc_discovery, methods=["GET"]),
    Route("/oidc/v1/token", issue_token, methods=["POST"]),
]
