"""Run an act's commands, after checking who acts and what their role lets them do.

The commands are the `name: value` lines at the top of the act's text (and, for mail, a
`[status=resolved]` suffix of the subject). An actor who is not verified (a mail whose
From: nothing proves) has every command refused and the lines kept as the text they now
are. The command lines are taken out of the stored text; the Events keep them in the
history, with the act's source.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from mailgate.commands.base import CommandContext
from mailgate.commands.parser import find_commands
from mailgate.commands.permissions import allowed_commands, permitted, role_for
from mailgate.core.changes import CommandLine, CommandReport, Verdict
from mailgate.core.errors import Refused
from mailgate.nosy import add_to_nosy
from mailgate.search import index_new_body
from mailgate.subject import clean_subject
from mailgate.tickets.act import Act
from mailgate.verify import verify_sender

if TYPE_CHECKING:
    from mailgate.env import Env

log = logging.getLogger("mailgate.commands")


def join_writer(env: Env, act: Act) -> None:
    """Whoever writes to a ticket joins its nosy list ([alerts] nosy_writers)."""
    if not act.created and not act.auto and act.author and env.settings.alerts.nosy_writers:
        add_to_nosy(act.ticket, act.actor, env.settings)


def _verdict(env: Env, act: Act) -> Verdict:
    if act.verdict is not None:
        return act.verdict
    assert act.mail is not None, "an act without a verdict must be a mail"
    return verify_sender(act.mail, act.actor.id, act.token_person_id, env.settings.commands)


def run_commands(env: Env, act: Act) -> None:
    """Apply the act's commands; fills act.report, act.body, act.internal and act.changes,
    and saves the stored message's text without the command lines."""
    join_writer(env, act)
    settings = env.settings
    if act.auto or not settings.commands.enabled or not act.commands:
        return
    found = find_commands(act.text, act.subject, env.commands)
    if not found.lines:
        return
    report = CommandReport()
    verdict = _verdict(env, act)
    body = found.body
    if act.created and found.subject != act.subject:
        act.ticket.subject = clean_subject(found.subject, settings.gateway.subject_tag)
        act.ticket.save()
    if not verdict.verified:
        report.unverified = verdict.reason
        body = act.text  # nothing ran: keep the lines as the text they now are
        report.refused.extend((line, "sender not verified") for line in found.lines)
        log.warning("message %s stage commands: %d command(s) from %s not run: %s", act.message_id,
                    len(found.lines), act.author, verdict.reason, extra={"message_id": act.message_id})
    else:
        report.verified_by = verdict.how
        ctx = CommandContext(env=env, ticket=act.ticket, actor=act.actor,
                             role=role_for(act.actor, act.ticket, settings), message=act.message,
                             changes=act.changes, source=act.source, internal=act.internal)
        for line in found.lines:
            _run_one(env, ctx, line, report, act.message_id)
            if line.name == "comment" and line.value and ctx.internal:
                body = (line.value + "\n\n" + body).strip("\n")
        act.internal = ctx.internal
        report.help_requested = ctx.help_requested
    if act.message is not None:
        index_new_body(env, act.message, body)  # the index forgets the command lines too
        act.message.body, act.message.internal = body, act.internal
        act.message.save()
    act.body = body
    act.report = report


def _run_one(env: Env, ctx: CommandContext, line: CommandLine, report: CommandReport, message_id: str) -> None:
    cmd = env.commands[line.name]
    queue = ctx.ticket.queue.name
    self_service = getattr(cmd, "self_service", None)
    if not permitted(ctx.role, line.name, queue, ctx.settings) and not (
        self_service is not None and self_service(ctx, line.value)
    ):
        allowed = ", ".join(c for c in allowed_commands(ctx.role, queue, ctx.settings)) or "none"
        reason = f"not permitted: as {_role_words(ctx.role)} you may use: {allowed}"
        report.refused.append((line, reason))
        log.info("message %s stage commands: %s refused for %s: %s", message_id, line.name,
                 ctx.actor.address, reason, extra={"message_id": message_id})
        return
    try:
        result = cmd.apply(ctx, line.value)
    except Refused as refused:
        report.refused.append((line, refused.reason))
        log.info("message %s stage commands: %s refused: %s", message_id, line.line, refused.reason,
                 extra={"message_id": message_id})
        return
    report.applied.append((line, result))
    log.info("message %s stage commands: %s by %s (%s)", message_id, result, ctx.actor.address, ctx.source,
             extra={"message_id": message_id})


def _role_words(role: str) -> str:
    return {"technician": "a technician of this queue", "requester": "the requester of this ticket",
            "anyone": "someone who is not staff for this queue nor the requester"}.get(role, role)
