"""Supervised daemon tasks that crashed and have not run well since (issue 17).

The daemon restarts a crashed task with backoff; without a record of it, `mailgate status`
(another process) said "running" while no mail was processed for minutes. One row per
(daemon node, task) while the task is failing: written at every crash, removed once the
restarted task has run for a while, or when the daemon starts again.
"""

from __future__ import annotations

from datetime import datetime

import peewee as pw

from mailgate.db.models import BaseModel, utcnow


class TaskFailure(BaseModel):
    node = pw.CharField()
    task = pw.CharField()
    failures = pw.IntegerField(default=0)  # crashes since the task last ran well
    last_error = pw.TextField(default="")  # "ExceptionType: message" of the latest crash
    first_failed_at = pw.DateTimeField(default=utcnow)
    last_failed_at = pw.DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("node", "task"), True),)


HEALTH_MODELS: tuple[type[BaseModel], ...] = (TaskFailure,)


def record_crash(node: str, task: str, error: str, now: datetime | None = None) -> int:
    """Count one crash; returns the crashes since the task last ran well."""
    now = now or utcnow()
    error = error[:2000]
    with TaskFailure._meta.database.atomic():
        TaskFailure.insert(node=node, task=task, failures=1, last_error=error, first_failed_at=now,
                           last_failed_at=now).on_conflict(
            conflict_target=[TaskFailure.node, TaskFailure.task],
            update={TaskFailure.failures: TaskFailure.failures + 1, TaskFailure.last_error: error,
                    TaskFailure.last_failed_at: now}).execute()
    row = TaskFailure.get_or_none(TaskFailure.node == node, TaskFailure.task == task)
    return row.failures if row else 1


def clear_task(node: str, task: str) -> int:
    return TaskFailure.delete().where(TaskFailure.node == node, TaskFailure.task == task).execute()


def clear_node(node: str) -> int:
    """A daemon starting afresh: what its previous run recorded is history (in its log)."""
    return TaskFailure.delete().where(TaskFailure.node == node).execute()


def failing() -> list[TaskFailure]:
    return list(TaskFailure.select().order_by(TaskFailure.node, TaskFailure.task))
