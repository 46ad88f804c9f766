import logging

from odoo import models

_logger = logging.getLogger(__name__)

#: Seconds a throttled batch may spend waiting for its slots before it stops
#: and leaves the rest of the queue to the next run of the mail queue.
DEFAULT_THROTTLE_BATCH_SECONDS = 50


class MailMail(models.Model):
    """Honours the send throttle of the mail server and of the mailing.

    Before each throttled e-mail the worker reserves the next slot of its
    server and mailing in the database (``mail.send.slot``) and waits for it,
    so several workers sending at once together respect the limit. A batch
    stops waiting after ``mass_mailing_delivery.throttle_batch_seconds`` (the
    remaining e-mails stay outgoing, the mail queue is triggered again when
    the next slot opens). Without any throttle, core's ``_send`` runs as is.
    """

    _inherit = "mail.mail"

    def _send(  # noqa: PLR0917 (core's signature)
        self,
        auto_commit=False,
        raise_exception=False,
        smtp_session=None,
        alias_domain_id=False,
        mail_server=False,
        post_send_callback=None,
    ):
        send_kwargs = {
            "auto_commit": auto_commit,
            "raise_exception": raise_exception,
            "smtp_session": smtp_session,
            "alias_domain_id": alias_domain_id,
            "mail_server": mail_server,
            "post_send_callback": post_send_callback,
        }
        plan = self._get_throttle_plan(mail_server)
        if not plan:
            return super()._send(**send_kwargs)
        Slot = self.env["mail.send.slot"].sudo()
        budget = float(
            self.env["ir.config_parameter"]
            .sudo()
            .get_param(
                "mass_mailing_delivery.throttle_batch_seconds", DEFAULT_THROTTLE_BATCH_SECONDS
            )
        )
        deadline = Slot._db_now() + budget
        res = True
        for mail in self:
            intervals = plan.get(mail.id)
            if intervals and mail.state == "outgoing":
                if not Slot._wait_for_slot(intervals, deadline):
                    self._retrigger_throttled_queue(intervals)
                    break
            res = super(MailMail, mail)._send(**send_kwargs)
        return res

    def _get_throttle_plan(self, mail_server=False):
        """The throttle intervals that apply to each mail of ``self``.

        :param mail_server: the ``ir.mail_server`` the batch is sent through
        :return: dict mail id -> {slot key: seconds between two e-mails}; empty
            when nothing is throttled
        """
        servers = (
            self.env["ir.mail_server"]
            .sudo()
            .search(["|", ("throttle_rate", ">", 0), ("throttle_delay", ">", 0)])
        )
        mailings = self.sudo().mailing_id.filtered(lambda m: m._get_own_send_interval() > 0)
        if not servers and not mailings:
            return {}
        plan = {}
        for mail in self.sudo():
            intervals = {}
            server = mail_server or mail.mail_server_id
            if server and server in servers:
                intervals[f"server:{server.id}"] = server._get_throttle_interval()
            if mail.mailing_id and mail.mailing_id in mailings:
                intervals[f"mailing:{mail.mailing_id.id}"] = (
                    mail.mailing_id._get_own_send_interval()
                )
            if intervals:
                plan[mail.id] = intervals
        return plan

    def _retrigger_throttled_queue(self, intervals):
        """Run the mail queue again when the next throttled slot opens."""
        cron = self.env.ref("mail.ir_cron_mail_scheduler_action", raise_if_not_found=False)
        if cron:
            cron.sudo()._trigger(
                at=self.env["mail.send.slot"].sudo()._next_send_datetime(intervals)
            )
        _logger.info("Throttled send: batch stopped, %s", ", ".join(sorted(intervals)))
