"""The ticket lifecycle (issue 7): parent/child trees, merge, snooze, SLA milestones,
escalation, archive, daily digests and the person view.

Everything timed runs as jobs in the daemon's scheduler (`jobs.py`); what a job did is
stored (`LifecycleMark`, `Snooze`, events), so a restart neither forgets nor repeats it.
"""
