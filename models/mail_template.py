from odoo import api
from odoo import fields
from odoo import models

#: the document templates tracked by default, when their app is installed
DEFAULT_TRACKED_TEMPLATES = (
    "account.email_template_edi_invoice",
    "account.email_template_edi_credit_note",
    "sale.email_template_edi_sale",
    "sale.mail_template_sale_confirmation",
    "purchase.email_template_edi_purchase",
    "purchase.email_template_edi_purchase_done",
)


class MailTemplate(models.Model):
    """Which templates (and so which documents) send tracked e-mails."""

    _inherit = "mail.template"

    mmd_tracked = fields.Boolean(
        "Track opens and clicks",
        help="E-mails sent with this template, and the e-mails posted to the customers of "
        "documents of its model, get an open pixel, tracked links and a one-click "
        "unsubscribe header; the document shows them in its envelope.",
    )

    @api.model
    def _mmd_get_tracked_models(self):
        """Names of the models whose document e-mails are tracked."""
        return set(self.sudo().search([("mmd_tracked", "=", True)]).mapped("model"))

    @api.model
    def _mmd_track_default_templates(self, xmlids=DEFAULT_TRACKED_TEMPLATES):
        """Turn tracking on for the standard document templates that exist."""
        templates = self.browse()
        for xmlid in xmlids:
            templates |= self.env.ref(xmlid, raise_if_not_found=False) or self.browse()
        templates.sudo().write({"mmd_tracked": True})
        return templates

    def _load_records(self, data_list, update=False):
        # an app installed after this addon: its standard templates start tracked
        new_xmlids = [
            data["xml_id"]
            for data in data_list
            if data.get("xml_id") in DEFAULT_TRACKED_TEMPLATES
            and not self.env.ref(data["xml_id"], raise_if_not_found=False)
        ]
        records = super()._load_records(data_list, update=update)
        if new_xmlids:
            self._mmd_track_default_templates(new_xmlids)
        return records
