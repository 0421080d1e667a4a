"""Timed jobs: snooze wake-ups, SLA warnings, escalation, archive and daily digests.

Each job is a plain function run in the daemon's database thread inside one transaction
(`jobs.run_task`): what it changed, the mails it queued and the marks that stop it
repeating commit together. Changes go through the ticket service with source "schedule",
so the history and the mails are those of any other change.
"""
