"""The figures of a sent mailing, defined once (no ORM).

Every screen that counts the recipients of a mailing (the banners of the mailing form,
core's statistic buttons and blue banner, the live summary, the Mailing Health cards,
the reports) reads them from :func:`figures_from_groups`, and every figure opens the
traces of :func:`trace_domain`: what a figure counts is what its click lists.

A trace is one recipient. The figures:

* ``total``: every recipient of the mailing;
* ``ignored``: never sent by Odoo, before any attempt: blocked, opted out, duplicate,
  missing or invalid address (core cancels some and marks others as errors: both are
  ignored here);
* ``targeted``: the recipients Odoo tried to mail (``total - ignored``);
* ``to_send``: still queued; ``sent``: left Odoo; ``not_sent``: Odoo tried and failed
  (the mail server refused or could not be reached);
* ``delivered``: accepted and not bounced; ``bounced``: came back;
* ``opened``, ``clicked``, ``replied``: recipients (not events);
* ``complaints``: marked as spam.

Each percentage is a share of one base, :data:`RATE_BASES`, said by the screen.
"""

from .delivery_report import FAILURE_TYPE_REASONS

#: mailing.trace failure types of the recipients ignored before any attempt
IGNORED_FAILURE_TYPES = tuple(FAILURE_TYPE_REASONS)
#: trace statuses of a mail still waiting to leave Odoo
WAITING_STATUSES = ("outgoing", "process", "pending")
#: trace statuses of a mail accepted by the receiving server and not bounced
DELIVERED_STATUSES = ("sent", "open", "reply")

#: the counters, in the order the screens show them
FIGURES = (
    "total",
    "to_send",
    "sent",
    "delivered",
    "opened",
    "clicked",
    "replied",
    "ignored",
    "not_sent",
    "bounced",
    "complaints",
)

#: figure -> the figure its percentage is a share of
RATE_BASES = {
    "sent": "targeted",
    "delivered": "targeted",
    "not_sent": "targeted",
    "opened": "delivered",
    "clicked": "delivered",
    "replied": "delivered",
    "ignored": "total",
    "bounced": "sent",
    "complaints": "delivered",
}


def is_ignored(status, failure_type):
    """Whether a trace is a recipient ignored before any attempt.

    :param status: ``trace_status`` of the trace
    :param failure_type: its ``failure_type`` (or None)
    """
    return status == "cancel" or (status == "error" and failure_type in IGNORED_FAILURE_TYPES)


def figures_from_groups(groups):
    """The counters of a mailing from its traces grouped by status and failure type.

    :param groups: iterable of ``(trace_status, failure_type, count, sent_count,
        clicked_count, complaint_count)``: ``count`` traces of that status and type,
        ``sent_count`` of them with a sent date, ``clicked_count`` with a click,
        ``complaint_count`` marked as spam
    :return: dict figure -> count, for every key of :data:`FIGURES` and ``targeted``
    """
    figures = dict.fromkeys((*FIGURES, "targeted"), 0)
    for status, failure_type, count, sent_count, clicked_count, complaint_count in groups:
        figures["total"] += count
        figures["sent"] += sent_count
        figures["clicked"] += clicked_count
        figures["complaints"] += complaint_count
        if is_ignored(status, failure_type):
            figures["ignored"] += count
            continue
        figures["targeted"] += count
        if status in WAITING_STATUSES:
            figures["to_send"] += count
        elif status == "error":
            figures["not_sent"] += count
        elif status == "bounce":
            figures["bounced"] += count
        if status in DELIVERED_STATUSES:
            figures["delivered"] += count
        if status in ("open", "reply"):
            figures["opened"] += count
        if status == "reply":
            figures["replied"] += count
    return figures


def rate(part, whole, digits=2):
    """``part`` in percent of ``whole`` (0.0 when ``whole`` is 0)."""
    return round(100.0 * part / whole, digits) if whole else 0.0


def rates(figures, digits=2):
    """Each figure of :data:`RATE_BASES` in percent of its base.

    :param figures: dict of :func:`figures_from_groups`
    :return: dict figure -> percentage
    """
    return {
        key: rate(figures.get(key, 0), figures.get(base, 0), digits)
        for key, base in RATE_BASES.items()
    }


def trace_domain(figure):
    """The domain on ``mailing.trace`` (to AND with the mailing) of the recipients a
    figure counts, or None for an unknown figure."""
    ignored_types = list(IGNORED_FAILURE_TYPES)
    ignored = [
        "|",
        ("trace_status", "=", "cancel"),
        "&",
        ("trace_status", "=", "error"),
        ("failure_type", "in", ignored_types),
    ]
    return {
        "total": [],
        "targeted": ["!", *ignored],
        "to_send": [("trace_status", "in", list(WAITING_STATUSES))],
        "sent": [("sent_datetime", "!=", False)],
        "delivered": [("trace_status", "in", list(DELIVERED_STATUSES))],
        "opened": [("trace_status", "in", ["open", "reply"])],
        "clicked": [("links_click_datetime", "!=", False)],
        "replied": [("trace_status", "=", "reply")],
        "ignored": ignored,
        "not_sent": [
            ("trace_status", "=", "error"),
            ("failure_type", "not in", ignored_types),
        ],
        "bounced": [("trace_status", "=", "bounce")],
        "complaints": [("is_complaint", "=", True)],
    }.get(figure)
