"""The archive (BCC) copy of a mass mailing e-mail (no ORM): the recipient's message
without what would count the archive's reading as the recipient's, the open pixel and
the links that name the recipient's trace.

Core adds to each mass mailing e-mail an image ``<base>/mail/track/<mail id>/<token>/
blank.gif`` (its loading is the recipient's open) and turns each shortened link
``<base>/r/<code>`` into ``<base>/r/<code>/m/<trace id>`` (its following is the
recipient's click). The copy keeps its links working: each points to the page the
short link leads to.
"""

import re

from markupsafe import escape

#: core's open pixel of a mass mailing e-mail
PIXEL_RE = re.compile(
    r"""<img\b[^>]*\bsrc=["'][^"']*/mail/track/\d+/[^"'/]+/blank\.gif["'][^>]*>""",
    re.IGNORECASE,
)
#: a shortened link naming the recipient's trace; groups: the short link, its code
TRACKED_LINK_RE = re.compile(r"""(https?://[^\s"'<>]+?/r/([A-Za-z0-9_-]+))/m/\d+""")


def tracked_codes(*texts):
    """The codes of the shortened links of ``texts`` that name a trace.

    :param texts: HTML or plain-text bodies (``None`` allowed)
    :return: set of link codes
    """
    return {match.group(2) for text in texts if text for match in TRACKED_LINK_RE.finditer(text)}


def untracked(text, targets, html=True):
    """``text`` without the open pixel, its links naming a trace replaced by the page
    they lead to (else by the short link without the trace).

    :param text: the body of the recipient's e-mail (HTML or plain text), or ``None``
    :param targets: ``{link code: URL the short link leads to}``
    :param html: ``text`` is HTML (the targets are escaped as attribute values)
    :return: the text of the archive copy, of the same type as ``text``
    """
    if not text:
        return text

    def _target(match):
        url = targets.get(match.group(2))
        if not url:
            return match.group(1)
        return str(escape(url)) if html else url

    result = TRACKED_LINK_RE.sub(_target, PIXEL_RE.sub("", text) if html else text)
    return text.__class__(result) if result != text else text
