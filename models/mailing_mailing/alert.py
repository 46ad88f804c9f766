from odoo import fields
from odoo import models
from odoo.tools.misc import formatLang


class MailingMailing(models.Model):
    """A mass mailing whose failure rate passes an alert rule's limit is paused:
    its pending e-mails are put on hold (``mail.mail`` cancelled and flagged, their
    traces cancelled) and a mailing still in the queue goes back to draft. Resuming
    puts them back in the queue exactly as they were."""

    _inherit = "mailing.mailing"

    mmd_paused = fields.Boolean("Paused", readonly=True, copy=False)
    mmd_pause_reason = fields.Char("Pause reason", readonly=True, copy=False)
    mmd_resumed = fields.Boolean(
        "Resumed",
        readonly=True,
        copy=False,
        help="Its owner resumed it after a pause: the failures that caused it do not pause "
        "it again (its owner is still alerted).",
    )

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

    def action_mmd_resume(self):
        """Send the e-mails a pause put on hold."""
        for mailing in self.filtered("mmd_paused"):
            mails_sudo = (
                self.env["mail.mail"]
                .sudo()
                .search(
                    [
                        ("mailing_id", "=", mailing.id),
                        ("mmd_paused", "=", True),
                        ("state", "=", "cancel"),
                    ]
                )
            )
            self.env["mailing.trace"].sudo().search(
                [("mail_mail_id", "in", mails_sudo.ids), ("trace_status", "=", "cancel")]
            ).write({"trace_status": "outgoing", "failure_type": False, "failure_reason": False})
            mails_sudo.write({"state": "outgoing", "mmd_paused": False, "failure_reason": False})
            values = {"mmd_paused": False, "mmd_pause_reason": False, "mmd_resumed": True}
            if mailing.state == "draft":
                values["state"] = "in_queue"
            mailing.write(values)
        self.env.ref("mail.ir_cron_mail_scheduler_action").sudo()._trigger()
        return True

    # ------------------------------------------------------------
    # BUSINESS METHODS
    # ------------------------------------------------------------

    def _mmd_pause(self, verdict):
        """Put the pending e-mails of the mailing on hold.

        :param verdict: the ``failure_rate.RateVerdict`` that passed the rule's limit
        :return: True when the mailing was paused now
        """
        self.ensure_one()
        mailing_sudo = self.sudo()
        if mailing_sudo.mmd_paused or mailing_sudo.mmd_resumed:
            return False
        reason = self.env._(
            "Paused: %(explanation)s", explanation=self._mmd_get_rate_explanation(verdict)
        )
        mails_sudo = (
            self.env["mail.mail"]
            .sudo()
            .search([("mailing_id", "=", mailing_sudo.id), ("state", "=", "outgoing")])
        )
        mails_sudo.write({"state": "cancel", "mmd_paused": True, "failure_reason": reason})
        self.env["mailing.trace"].sudo().search(
            [
                ("mail_mail_id", "in", mails_sudo.ids),
                ("trace_status", "in", ("outgoing", "process")),
            ]
        ).write({"trace_status": "cancel", "failure_reason": reason})
        values = {"mmd_paused": True, "mmd_pause_reason": reason}
        if mailing_sudo.state in ("in_queue", "sending"):
            values["state"] = "draft"
        mailing_sudo.write(values)
        mailing_sudo.message_post(body=reason, subtype_xmlid="mail.mt_note")
        return True

    def _mmd_get_rate_explanation(self, verdict):
        """The figures behind a pause, in words: the failures counted, the e-mails
        processed, the rate, its confidence interval and the limit.

        :param verdict: a ``failure_rate.RateVerdict``
        """

        def percent(value):
            return formatLang(self.env, value, digits=1)

        return self.env._(
            "%(bad)s of the %(processed)s e-mails processed (%(rate)s %%) went to unknown "
            "recipients or domains or were reported as spam. With %(confidence)s %% "
            "confidence the rate is between %(low)s %% and %(high)s %%: above the limit of "
            "%(limit)s %%. Temporary failures (mailbox full, server busy, outage) are not "
            "counted.",
            bad=verdict.bad,
            processed=verdict.processed,
            rate=percent(verdict.rate),
            confidence=format(100 * verdict.confidence, "g"),
            low=percent(verdict.low),
            high=percent(verdict.high),
            limit=format(verdict.limit, "g"),
        )
