"""Reports as CSV and as text tables (the CLI; the report mail's body)."""

from __future__ import annotations

import csv
import io
from typing import Any

from mailgate.reports.build import Report

COLUMNS = {
    "monthly": ("month", "queue", "created", "requests", "alerts", "resolved", "open_at_end",
                "median_first_response_hours", "median_resolution_hours"),
    "sla": ("month", "queue", "first_response_met", "first_response_breached", "first_response_pending",
            "resolution_met", "resolution_breached", "resolution_pending"),
    "incidents": ("ticket", "start", "end", "systems", "owner", "status", "kind", "subject", "impact"),
}
SHORT = {"median_first_response_hours": "first resp. h", "median_resolution_hours": "resolution h",
         "first_response_met": "1st met", "first_response_breached": "1st breached",
         "first_response_pending": "1st pending", "resolution_met": "res. met", "resolution_breached": "res. breached",
         "resolution_pending": "res. pending", "open_at_end": "open at end"}


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return " ".join(map(str, value))
    return str(value)


def to_csv(report: Report) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    columns = COLUMNS[report.kind]
    writer.writerow(columns)
    for row in report.rows:
        writer.writerow([_cell(row.get(c)) for c in columns])
    return out.getvalue()


def to_text(report: Report) -> str:
    columns = COLUMNS[report.kind]
    head = [SHORT.get(c, c) for c in columns]
    cells = [[_cell(row.get(c)).replace("\n", " ")[:60] for c in columns] for row in report.rows]
    if not cells:
        return f"No {report.kind} rows from {report.start} to {report.end}.\n"
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(head)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)).rstrip()]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    return "\n".join(lines) + "\n"
