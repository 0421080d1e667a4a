"""`mailgate report monthly|sla|incidents`."""

from __future__ import annotations

from pathlib import Path

import click

from mailgate.cli.context import Context, pass_ctx
from mailgate.cli.output import emit_json


@click.command("report")
@click.argument("kind", type=click.Choice(["monthly", "sla", "incidents"]))
@click.option("--from", "start", metavar="WHEN", help="First month (YYYY-MM) or, for incidents, day (YYYY-MM-DD).")
@click.option("--to", "end", metavar="WHEN", help="Last month or day, included.")
@click.option("--queue", help="Only this queue (its time zone then sets the month boundaries).")
@click.option("--by-queue", is_flag=True, help="monthly: one row per month and queue.")
@click.option("--json", "as_json", is_flag=True, help="The report as JSON: {report, from, to, queues, rows}.")
@click.option("--csv", "as_csv", is_flag=True, help="The rows as CSV.")
@click.option("--chart", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE.png",
              help="monthly: also write the chart as a PNG.")
@pass_ctx
def report(ctx: Context, kind: str, start: str | None, end: str | None, queue: str | None, by_queue: bool,
           as_json: bool, as_csv: bool, chart: Path | None) -> None:
    """Print a report: tickets per month, SLA targets met and breached, or incidents.

    \b
    mailgate report monthly --from 2024-01 --to 2024-06
    mailgate report sla --queue ops --csv
    mailgate report incidents --from 2024-06-01        (default: the last 7 days)
    """
    from mailgate.core.errors import Invalid
    from mailgate.reports.build import build_report
    from mailgate.reports.output import to_csv, to_text

    if as_json and as_csv:
        raise click.UsageError("give --json or --csv, not both")
    env = ctx.env
    try:
        rep = build_report(ctx.settings, kind, env.now(), start, end, queue, by_queue)
    except Invalid as exc:
        raise click.UsageError(str(exc)) from None
    if chart is not None:
        if kind != "monthly":
            raise click.UsageError("--chart: only the monthly report has a chart")
        from mailgate.reports.chart import png

        chart.write_bytes(png(rep.rows))
    if as_json:
        emit_json(rep.as_dict())
    elif as_csv:
        click.echo(to_csv(rep), nl=False)
    else:
        click.echo(f"{kind} report, {rep.start} to {rep.end}" + (f", queue {queue}" if queue else ""))
        click.echo(to_text(rep), nl=False)
