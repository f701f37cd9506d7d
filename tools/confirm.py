"""Confirmation of destructive calls: a `confirm_name` argument, or a form the user fills in.

A destructive tool takes `name`, `confirm_name` and `dry_run` arguments and a parameter
annotated `Annotated[ConfirmationOutcome, Resolve(confirmation_resolver(...))]`. The resolver
runs before the tool body:

1. the name check and the policy check, so the user is never asked to confirm a change that
   would be rejected anyway;
2. `dry_run=True` needs no confirmation;
3. `confirm_name` equal to `name` confirms, and any other value rejects the call;
4. without `confirm_name`, a client that declared form elicitation gets a form asking for the
   endpoint name. The mcp SDK sends it as a push request on 2025-11-25 connections and as an
   input-required round on 2026-07-28 connections;
5. otherwise the call is not confirmed, and the tool tells the model to ask the user.

`settle_confirmation` turns whatever the resolver produced into one `Confirmation`.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

from mcp.server.mcpserver import (
    AcceptedElicitation,
    CancelledElicitation,
    Context,
    DeclinedElicitation,
    Elicit,
    ElicitationResult,
)
from pydantic import BaseModel, Field

from tools.audit import audited
from tools.context import deps_of
from tools.errors import InvalidArgument, to_tool_failure
from tools.rules import check_endpoint_name

ConfirmationMethod = Literal["confirm_name", "form", "dry_run", "none"]


class ConfirmNameForm(BaseModel):
    """The form a user fills in to confirm: the endpoint name, typed again."""

    confirm_name: str = Field(description="Type the endpoint name exactly to confirm")


@dataclass(frozen=True)
class Confirmation:
    """Whether the call may go ahead, how that was decided, and why not when it may not."""

    confirmed: bool
    method: ConfirmationMethod
    reason: str = ""
    # True when the user declined or cancelled the form, so asking again is pointless.
    declined: bool = False


ConfirmationOutcome = ElicitationResult[ConfirmNameForm]
Resolver = Callable[[str, str | None, bool, Context], Awaitable[Confirmation | Elicit[ConfirmNameForm]]]


def confirmation_resolver(tool: str, question: str) -> Resolver:
    """Build the resolver for `tool`; `question` is formatted with `name` and shown in the form."""

    async def resolve_confirmation(
        name: str, confirm_name: str | None, dry_run: bool, ctx: Context
    ) -> Confirmation | Elicit[ConfirmNameForm]:
        # The resolver runs before the tool body, so it records its own rejections.
        with audited(deps_of(ctx), tool, name):
            try:
                check_endpoint_name(name)
            except InvalidArgument as exc:
                # The resolver runs outside the tool's error decorator, so it converts the error itself.
                raise to_tool_failure(exc) from exc
            deps_of(ctx).policy.check_mutation(tool, name)
        if dry_run:
            return Confirmation(True, "dry_run")
        if confirm_name is not None:
            if confirm_name == name:
                return Confirmation(True, "confirm_name")
            return Confirmation(False, "confirm_name", f"confirm_name={confirm_name!r} does not match name={name!r}")
        if supports_form_elicitation(ctx):
            return Elicit(question.format(name=name), ConfirmNameForm)
        return Confirmation(False, "none", "confirm_name is missing and this client cannot show a confirmation form")

    return resolve_confirmation


def supports_form_elicitation(ctx: Context) -> bool:
    """Tell whether the client declared form elicitation (a bare `elicitation: {}` counts as form)."""
    capabilities = ctx.client_capabilities
    elicitation = capabilities.elicitation if capabilities is not None else None
    return elicitation is not None and (elicitation.form is not None or elicitation.url is None)


def settle_confirmation(outcome: ConfirmationOutcome, name: str) -> Confirmation:
    """Reduce the resolver's outcome to one `Confirmation` for the endpoint `name`."""
    if isinstance(outcome, DeclinedElicitation):
        return Confirmation(False, "form", "the user declined the confirmation form", declined=True)
    if isinstance(outcome, CancelledElicitation):
        return Confirmation(False, "form", "the user cancelled the confirmation form", declined=True)
    assert isinstance(outcome, AcceptedElicitation)
    data: object = outcome.data
    if isinstance(data, Confirmation):
        return data
    if isinstance(data, ConfirmNameForm):
        typed = data.confirm_name.strip()
        if typed == name:
            return Confirmation(True, "form")
        return Confirmation(False, "form", f"the name typed in the form ({typed!r}) does not match {name!r}")
    raise TypeError(f"unexpected confirmation outcome: {data!r}")
