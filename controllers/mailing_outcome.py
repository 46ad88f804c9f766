from werkzeug.exceptions import BadRequest
from werkzeug.exceptions import NotFound
from werkzeug.exceptions import Unauthorized

from odoo import http
from odoo.addons.mass_mailing.controllers.main import MassMailController
from odoo.http import request

from .main import MAX_ID


class MassMailControllerOutcome(MassMailController):
    """Tags the recipient as unsubscribed when they leave through a mailing's link."""

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
    def mailing_unsubscribe(self, mailing_id, document_id=None, email=None, hash_token=None):
        response = super().mailing_unsubscribe(
            mailing_id, document_id=document_id, email=email, hash_token=hash_token
        )
        email_found, _hash_token = self._fetch_user_information(email, hash_token)
        request.env["mailing.mailing"].sudo().browse(mailing_id).exists()._apply_unsubscribed_tag(
            email_found
        )
        return response

    @http.route()
    def mail_blocklist_add(self, mailing_id=None, document_id=None, email=None, hash_token=None):
        result = super().mail_blocklist_add(
            mailing_id=mailing_id, document_id=document_id, email=email, hash_token=hash_token
        )
        if result is True and mailing_id:
            email_found, _hash_token = self._fetch_user_information(email, hash_token)
            request.env["mailing.mailing"].sudo().browse(
                int(mailing_id)
            ).exists()._apply_unsubscribed_tag(email_found)
        return result
