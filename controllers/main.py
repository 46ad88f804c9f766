"""Public endpoints of document e-mail tracking: open pixel, click redirect,
unsubscribe (RFC 8058 one-click and a page asking an optional reason).

Thin: parse, let ``mail.tracking.email`` check the signed token, answer. Every
decision (token, expiry, machine or human, blacklisting) is the model's.
"""

from werkzeug.exceptions import NotFound

from odoo import http
from odoo.http import Response
from odoo.http import request

from ..models.mail_tracking_email import PIXEL_GIF

PIXEL_HEADERS = [
    ("Content-Type", "image/gif"),
    ("Content-Length", str(len(PIXEL_GIF))),
    ("Cache-Control", "no-store, no-cache, must-revalidate, max-age=0"),
    ("Pragma", "no-cache"),
]


#: the largest id PostgreSQL stores in an ``integer`` column
MAX_ID = 2**31 - 1


def _to_id(value):
    """A positive database id from a URL part, or None. ASCII digits only: ``str.isdigit``
    also accepts digits that ``int()`` refuses (``"²"``)."""
    if not isinstance(value, str) or not value.isascii() or not value.isdigit() or len(value) > 10:
        return None
    number = int(value)
    return number if 0 < number <= MAX_ID else None


def _options(methods):
    """The answer to OPTIONS (a CORS preflight, a link scanner's probe), which Odoo's
    router lets through to every route: the methods allowed, and no open, click or
    unsubscription recorded.

    :return: the response (204), or None when the request is not OPTIONS
    """
    if request.httprequest.method != "OPTIONS":
        return None
    return Response(status=204, headers=[("Allow", ", ".join(methods))])


def _client():
    """The client's user agent and address, as stored on the events (PostgreSQL text
    holds no NUL byte, which a raw client may put in a header)."""
    httprequest = request.httprequest
    return {
        "user_agent": httprequest.headers.get("User-Agent", "").replace("\x00", ""),
        "ip": httprequest.remote_addr or "",
    }


class MailTrackingController(http.Controller):
    @http.route(
        "/mail/mmd/open/<string:tracking_ref>/<string:token>/blank.gif",
        type="http",
        auth="public",
        methods=["GET", "HEAD"],
        sitemap=False,
    )
    def mmd_track_open(self, tracking_ref, token, **kwargs):
        """The open pixel: the same image and headers whatever the token."""
        if options := _options(["GET", "HEAD"]):
            return options
        tracking_id = _to_id(tracking_ref)
        if tracking_id:
            request.env["mail.tracking.email"]._process_open(tracking_id, token, **_client())
        return Response(PIXEL_GIF, status=200, headers=PIXEL_HEADERS)

    @http.route(
        "/mail/mmd/click/<string:tracking_ref>/<string:link_ref>/<string:token>",
        type="http",
        auth="public",
        methods=["GET", "HEAD"],
        sitemap=False,
    )
    def mmd_track_click(self, tracking_ref, link_ref, token, **kwargs):
        """Redirect to the URL stored for this link, and only there."""
        if options := _options(["GET", "HEAD"]):
            return options
        tracking_id, link_id = _to_id(tracking_ref), _to_id(link_ref)
        url = (
            tracking_id
            and link_id
            and (
                request.env["mail.tracking.email"]._process_click(
                    tracking_id, link_id, token, **_client()
                )
            )
        )
        if not url:
            raise NotFound()
        return request.redirect(url, code=302, local=False)

    # csrf off: a mail client posts the one-click request without any session; the
    # signed token of the URL is the authorisation (RFC 8058).
    @http.route(
        "/mail/mmd/unsubscribe_oneclick/<string:tracking_ref>/<string:token>",
        type="http",
        auth="public",
        methods=["GET", "POST"],
        csrf=False,
        website=True,
        sitemap=False,
    )
    def mmd_unsubscribe_oneclick(self, tracking_ref, token, **kwargs):
        """POST (the mail client's one-click request): unsubscribe at once. GET (a
        person following the header's link): the page asking for confirmation."""
        if options := _options(["GET", "HEAD", "POST"]):
            return options
        if request.httprequest.method != "POST":
            return self.mmd_unsubscribe(tracking_ref, token)
        tracking_sudo = self._get_unsubscribe_tracking(tracking_ref, token)
        tracking_sudo._unsubscribe()
        return Response("OK", status=200, content_type="text/plain")

    # csrf off for the same reason: the page's form is authorised by the signed URL.
    @http.route(
        "/mail/mmd/unsubscribe/<string:tracking_ref>/<string:token>",
        type="http",
        auth="public",
        methods=["GET", "POST"],
        csrf=False,
        website=True,
        sitemap=False,
    )
    def mmd_unsubscribe(self, tracking_ref, token, reason=None, **kwargs):
        """GET: ask for confirmation and an optional reason; POST: unsubscribe."""
        if options := _options(["GET", "HEAD", "POST"]):
            return options
        tracking_sudo = self._get_unsubscribe_tracking(tracking_ref, token)
        done = request.httprequest.method == "POST"
        if done:
            tracking_sudo._unsubscribe(reason or "")
        return request.render(
            "mass_mailing_delivery.mail_tracking_unsubscribe_page",
            {
                "tracking": tracking_sudo,
                "done": done,
                "action_url": f"/mail/mmd/unsubscribe/{tracking_sudo.id}/{token}",
            },
        )

    def _get_unsubscribe_tracking(self, tracking_ref, token):
        tracking_id = _to_id(tracking_ref)
        tracking_sudo = tracking_id and request.env["mail.tracking.email"]._get_trusted(
            tracking_id, token, "unsubscribe"
        )
        if not tracking_sudo:
            raise NotFound()
        return tracking_sudo
