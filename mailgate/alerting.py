"""The alert mail: one person told what happened on a ticket ("who changed what"), by a
person's message, a command, a rule or the system. Built here only, so the mail about a
change made by email, the CLI, the API, the web desk or a timed job is the same mail.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from mailgate.access.links import attachment_url
from mailgate.clean import REPLY_MARKER
from mailgate.core.changes import Change
from mailgate.db.models import Outbox, Person, Ticket
from mailgate.mailer import links_on, queue_mail
from mailgate.nosy import alert_recipients

if TYPE_CHECKING:
    from mailgate.env import Env

Attached = tuple[str, str, bytes]  # file name, content type, bytes


@dataclass(frozen=True)
class News:
    """What one alert mail says; the same for everyone it goes to, but for the text (an
    internal note's text goes to staff only)."""

    author: str  # the address of whoever made the change
    author_name: str
    changes: Sequence[Change] = ()
    created: bool = False  # the ticket is new
    in_reply_to: str | None = None  # the Message-ID of the message the news is about
    listed: Sequence[tuple[str, int, int]] = ()  # attachments too large to attach: (name, size, id)
    attached: Sequence[Attached] = field(default=())
    # "Alice via Helpdesk": mail appears to come from the person who made the change
    from_person: bool = True


def send_alert(env: Env, ticket: Ticket, recipient: Person, news: News, *, text: str, internal: bool = False,
               references: list[str] | None = None, originator: str = "", html: bool = False) -> Outbox:
    """Queue one alert mail; small attachments ride along only when there is text."""
    gateway = env.settings.gateway.name
    return queue_mail(
        env, ticket=ticket, kind="alert", recipient=recipient, template="alert.txt.j2",
        html_template="alert.html.j2" if html else None,
        context={"author": news.author, "author_name": news.author_name, "text": text,
                 "changes": list(news.changes), "created": news.created, "internal": internal,
                 "listed": _listed(env, ticket, recipient, news.listed),
                 "attached": [a[0] for a in news.attached], "marker": REPLY_MARKER},
        from_name=f"{news.author_name} via {gateway}" if news.from_person else None,
        in_reply_to=news.in_reply_to, references=references, originator=originator,
        attachments=news.attached if text.strip() else (),
    )


def _listed(env: Env, ticket: Ticket, recipient: Person, listed: Sequence[tuple[str, int, int]]
            ) -> list[tuple[str, int, str]]:
    """(name, size, this recipient's download link or "") for files too large to attach."""
    s = env.settings
    on = links_on(env)
    return [(name, size, attachment_url(s.web_base_url, s.gateway.secret, ticket.id, att_id, recipient.id,
                                        env.now(), s.web.ticket_link_days) if on else "")
            for name, size, att_id in listed]


def tell_nosy(env: Env, ticket: Ticket, changes: Sequence[Change], text: str = "",
              exclude: Iterable[str] = ()) -> int:
    """A change nobody made by hand (a cascade, a wake-up) told to the ticket's nosy list
    and the queue's watchers, from the gateway itself."""
    news = News(author=env.settings.gateway.address, author_name=env.settings.gateway.name,
                changes=changes, from_person=False)
    sent = 0
    for person in alert_recipients(ticket, env.settings, exclude=exclude):
        send_alert(env, ticket, person, news, text=text)
        sent += 1
    return sent
