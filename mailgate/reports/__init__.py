"""Reports (issue 15): tickets per month, SLA targets met and breached, incidents.

    periods    months and date ranges in a queue's time zone
    monthly    created, resolved, open at month end, requests and alerts apart, medians
    sla        first response and resolution targets met / breached per queue and month
    chart      the monthly chart as SVG (pages) and PNG (mail)
    output     CSV and text tables
    mailing    the [[report]] mails on their schedule

A ticket belongs to the month of its queue's time zone ([[queue]] timezone): a ticket
opened at 23:30 UTC on 31 May is a June ticket in Berlin. Times are stored as naive UTC.
"""
