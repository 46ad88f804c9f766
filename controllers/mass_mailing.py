"""Core's mass-mailing open pixel and click redirect, with machine events left out:
an open or click by a privacy proxy, crawler or link scanner is recorded as a flagged
``mail.tracking.event`` and does not mark the trace opened or clicked (unless the
setting counts machine events). Human events go to core unchanged.

Ids out of PostgreSQL's integer range (or not positive), tokens that are not ASCII
and codes with a NUL byte are refused here as core refuses a wrong token or an unknown
record: core would fail on them with an error (500) in SQL or in ``consteq``. OPTIONS
(which Odoo's router lets through) is no open and no click: 204 with ``Allow``."""

from werkzeug.exceptions import BadRequest
from werkzeug.exceptions import NotFound
from werkzeug.exceptions import Unauthorized

from odoo import http
from odoo.addons.mass_mailing.controllers import main
from odoo.http import Response
from odoo.http import request
from odoo.tools import consteq

from ..models.mail_tracking_email import PIXEL_GIF
from .main import MAX_ID
from .main import PIXEL_HEADERS
from .main import _client
from .main import _options


class MassMailController(main.MassMailController):
    def _check_mailing_email_token(
        self, mailing_id, document_id, email, hash_token, required_mailing_id=False
    ):
        """Malformed credentials are refused as core refuses wrong ones (a token that
        is not ASCII text, a document id that is no number or an e-mail that is no
        text as a wrong token, a mailing id out of range as an unknown mailing, one
        that is no id at all as a bad request) instead of failing in ``consteq``, in
        the token's ``int()`` or in SQL (500, or a JSON-RPC error with its traceback)."""
        if hash_token and mailing_id and email and document_id:
            # core compares with consteq (ASCII only), its token takes int(document_id)
            # and asserts a string e-mail
            if not (isinstance(hash_token, str) and hash_token.isascii()):
                raise Unauthorized()
            if not isinstance(email, str):
                raise Unauthorized()
            try:
                int(document_id)
            except (TypeError, ValueError):
                raise Unauthorized() from None
        if mailing_id:
            if isinstance(mailing_id, str) and mailing_id.isascii() and mailing_id.isdigit():
                mailing_id = int(mailing_id)
            if not isinstance(mailing_id, int) or isinstance(mailing_id, bool):
                raise BadRequest()
            if not 0 < mailing_id <= MAX_ID:
                raise NotFound()
        return super()._check_mailing_email_token(
            mailing_id, document_id, email, hash_token, required_mailing_id=required_mailing_id
        )

    @http.route()
    def track_mail_open(self, mail_id, token, **post):
        if options := _options(["GET", "HEAD"]):
            return options
        if mail_id > MAX_ID or not token.isascii():
            raise Unauthorized()
        expected = request.env["mail.mail"]._generate_mail_recipient_token(mail_id)
        if consteq(token, expected) and request.env["mail.tracking.event"]._record_mailing_event(
            [("mail_mail_id_int", "=", mail_id)], "open", **_client()
        ):
            return Response(PIXEL_GIF, status=200, headers=PIXEL_HEADERS)
        return super().track_mail_open(mail_id, token, **post)

    @http.route()
    def full_url_redirect(self, code, mailing_trace_id, **post):
        if options := _options(["GET", "HEAD"]):
            return options
        if not 0 < mailing_trace_id <= MAX_ID or "\x00" in code:
            raise NotFound()
        url = request.env["link.tracker"].sudo().get_url_from_code(code)
        if url and request.env["mail.tracking.event"]._record_mailing_event(
            [("id", "=", mailing_trace_id)], "click", url=url, **_client()
        ):
            return request.redirect(url, code=301, local=False)
        return super().full_url_redirect(code, mailing_trace_id, **post)
