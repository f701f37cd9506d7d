"""discover_operations: the serving operation catalogue, or one operation's fields and rules."""

import difflib
from typing import Annotated, Any

from mcp.server import MCPServer
from mcp_types import ToolAnnotations
from pydantic import BaseModel, Field

from tools.catalog import OPERATIONS, Operation, find_operation
from tools.errors import InvalidArgument, tool_errors

READ_ONLY = ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=False)


class OperationSummary(BaseModel):
    name: str
    method: str
    path: str
    purpose: str
    tool: str | None = Field(None, description="the tool of this server that covers it; null when none does")


class FieldInfo(BaseModel):
    name: str
    type: str
    required: bool
    notes: str = ""


class OperationDetail(OperationSummary):
    long_running: bool
    fields: list[FieldInfo]
    rules: list[str]
    example: dict[str, Any] | None = None
    response: str = ""


class Discovery(BaseModel):
    operations: list[OperationSummary] = Field(default_factory=list, description="the catalogue (no argument)")
    operation: OperationDetail | None = Field(None, description="one operation's detail (with an argument)")
    hint: str


def register(server: MCPServer) -> None:
    @server.tool(annotations=READ_ONLY)
    @tool_errors
    async def discover_operations(
        operation: Annotated[
            str | None, Field(description="an operation name from the catalogue, e.g. 'create' or 'update_config'")
        ] = None,
    ) -> Discovery:
        """List every Model Serving REST operation; with `operation`, its JSON fields, rules and an example body."""
        if operation is None:
            return Discovery(
                operations=[_summary(op) for op in OPERATIONS],
                hint="Call discover_operations(operation=<name>) for its fields, rules and an example body.",
            )
        found = find_operation(operation)
        if found is None:
            raise _unknown(operation)
        return Discovery(operation=_detail(found), hint=_detail_hint(found))


def _summary(op: Operation) -> OperationSummary:
    return OperationSummary(name=op.name, method=op.method, path=op.path, purpose=op.purpose, tool=op.tool)


def _detail(op: Operation) -> OperationDetail:
    return OperationDetail(
        **_summary(op).model_dump(),
        long_running=op.long_running,
        fields=[FieldInfo(name=f.name, type=f.type, required=f.required, notes=f.notes) for f in op.fields],
        rules=list(op.rules),
        example=op.example,
        response=op.response,
    )


def _detail_hint(op: Operation) -> str:
    if op.tool:
        return f"Use the tool {op.tool} for this operation; it applies these rules itself."
    return "No tool of this server covers it; send it with the Databricks CLI or SDK."


def _unknown(query: str) -> InvalidArgument:
    names = [op.name for op in OPERATIONS]
    close = difflib.get_close_matches(query.strip().lower().replace("-", "_"), names, n=3, cutoff=0.5)
    fix = f"Did you mean {close}?" if close else "Call discover_operations() without an argument for the list."
    return InvalidArgument("operation", query, "is not a known serving operation", fix)
