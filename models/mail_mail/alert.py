from odoo import fields
from odoo import models


class MailMail(models.Model):
    """Alerts on outgoing failures: a document e-mail refused at sending raises an
    activity for its document's responsible; a mass mailing e-mail refused at
    sending makes its mailing's failure rate judged (and the mailing paused)."""

    _inherit = "mail.mail"

    mmd_paused = fields.Boolean(
        "On hold", readonly=True, copy=False, help="Cancelled by the pause of its mailing."
    )
    mmd_stuck = fields.Boolean(
        "Stuck in the queue",
        readonly=True,
        copy=False,
        help="Waiting in the queue for longer than the setting, at the last synchronisation.",
    )

    def _postprocess_sent_message(self, success_pids, failure_reason=False, failure_type=None):
        failed_sudo = self.sudo().filtered(lambda m: m.state == "exception")
        # read now: a sent mail may be deleted by super()
        mailings = failed_sudo.mailing_id
        documents = failed_sudo.filtered(lambda m: not m.mailing_id and m.model and m.res_id)
        res = super()._postprocess_sent_message(
            success_pids, failure_reason=failure_reason, failure_type=failure_type
        )
        Rule = self.env["mail.delivery.alert.rule"]
        for mail_sudo in documents:
            Rule._alert_failed_mail(mail_sudo)
        if mailings and self.env.context.get("mmd_claimed"):
            # a claimed batch checks its mailings' failure rate once, at its end
            self.env.cr.cache.setdefault("mmd_mailings_to_check", set()).update(mailings.ids)
        elif mailings:
            Rule._check_mailings(mailings)
        return res
