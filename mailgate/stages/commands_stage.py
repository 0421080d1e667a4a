"""Run the commands of a stored message, after checking who sent it and what they may do.

Runs after Store (the ticket and the message row exist, so events can point at the message)
and before Notify (which sends the receipt and the alerts this stage prepared). The command
lines are taken out of the stored visible text; the Events keep them in the history.
Automatic mail never runs commands: an autoresponder quoting "status: closed" changes nothing.
"""

from __future__ import annotations

import logging

from mailgate.commands import COMMANDS, CommandContext, CommandLine, CommandReport, Refused
from mailgate.commands.parser import find_commands
from mailgate.commands.permissions import allowed_commands, permitted, role_for
from mailgate.db.models import Message
from mailgate.nosy import add_participants
from mailgate.stages.base import Env, Inbound
from mailgate.stages.rows import sender_of, ticket_of
from mailgate.subject import clean_subject
from mailgate.verify import verify_sender

log = logging.getLogger("mailgate.commands")


class CommandsStage:
    name = "commands"

    def __call__(self, msg: Inbound, env: Env) -> None:
        p = msg.parsed
        if p is None or msg.ticket_id is None or msg.message_row_id is None:
            return
        settings = env.settings
        ticket = ticket_of(msg)
        add_participants(ticket, p, msg.created, bool(msg.auto_class), settings,
                         writer=sender_of(msg) if p.from_addr and not msg.auto_class else None)
        if msg.auto_class or not settings.commands.enabled:
            return
        visible = msg.clean.visible if msg.clean else p.text_plain
        found = find_commands(visible, p.subject, COMMANDS)
        if not found.lines:
            return
        row = Message.get_by_id(msg.message_row_id)
        sender = sender_of(msg)
        report = CommandReport()
        verdict = verify_sender(p, sender.id, msg.token_person_id, settings.commands)
        body = found.body
        if msg.created and found.subject != p.subject:
            ticket.subject = clean_subject(found.subject, settings.gateway.subject_tag)
            ticket.save()
        if not verdict.verified:
            report.unverified = verdict.reason
            body = visible  # nothing ran: keep the lines as the text they now are
            for line in found.lines:
                report.refused.append((line, "sender not verified"))
            log.warning("message %s stage commands: %d command(s) from %s not run: %s", p.message_id,
                        len(found.lines), p.from_addr, verdict.reason, extra={"message_id": p.message_id})
        else:
            report.verified_by = verdict.how
            ctx = CommandContext(env=env, ticket=ticket, actor=sender, role=role_for(sender, ticket, settings),
                                 message=row, changes=msg.changes)
            for line in found.lines:
                self._run_one(ctx, line, report, p.message_id)
                if line.name == "comment" and line.value and ctx.internal:
                    body = (line.value + "\n\n" + body).strip("\n")
            msg.internal = ctx.internal
            report.help_requested = ctx.help_requested
        row.body, row.internal = body, msg.internal
        row.save()
        msg.body = body
        msg.command_report = report

    def _run_one(self, ctx: CommandContext, line: CommandLine, report: CommandReport, message_id: str) -> None:
        cmd = COMMANDS[line.name]
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
        log.info("message %s stage commands: %s by %s", message_id, result, ctx.actor.address,
                 extra={"message_id": message_id})


def _role_words(role: str) -> str:
    return {"technician": "a technician of this queue", "requester": "the requester of this ticket",
            "anyone": "someone who is not staff for this queue nor the requester"}.get(role, role)
