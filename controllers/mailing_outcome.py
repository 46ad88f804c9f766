from odoo import http
from odoo.addons.mass_mailing.controllers.main import MassMailController
from odoo.http import request


class MassMailControllerOutcome(MassMailController):
    """Tags the recipient as unsubscribed when they leave through a mailing's link."""

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
