"""Incidents (issue 15): a ticket that is an outage.

    store       make a ticket an incident, its systems and impact, each change an Event
    automatic   incidents opened by themselves: an alert storm, a critical alert
    news        the timed job that mails the systems' subscribers on open, change, close
    view        the incidents of a date range with start, end, systems and owners
"""
