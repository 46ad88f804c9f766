import logging
from datetime import timedelta

from odoo import api
from odoo import fields
from odoo import models

from ..mailing_mailing.outcome import OUTCOME_TAG_FIELDS

_logger = logging.getLogger(__name__)

#: how far back synchronisation reconciles bounces with the e-mails they answer
RECONCILE_DAYS = 30


class MailBounceEvent(models.Model):
    """Bounce replies raise alerts; synchronisation also reconciles the log:
    e-mails stuck in the queue are reported and flagged, e-mails the SMTP server
    accepted but that bounced later are marked bounced."""

    _inherit = "mail.bounce.event"

    def _apply_events(self, message_dicts):
        # what the outcome tags and the rate alerts read of the mailings, read once
        self.mailing_id.sudo().fetch([*OUTCOME_TAG_FIELDS.values(), "mmd_paused", "mmd_resumed"])
        res = super()._apply_events(message_dicts)
        self.filtered(
            lambda e: e.kind in ("hard", "soft") and not e.trace_id
        )._mark_notifications_bounced()
        self.env["mail.delivery.alert.rule"]._alert_bounce_events(self.sudo())
        return res

    def _mark_notifications_bounced(self):
        """Mark bounced the e-mail notifications of the document message a bounce
        answers (by its Message-ID), for the bounced recipient: core does it only when
        the bounce names the message in its own headers.

        :return: the ``mail.notification`` records updated
        """
        notifications = self.env["mail.notification"].sudo()
        for event in self.filtered(lambda e: e.original_message_id and e.recipient):
            messages = (
                self.env["mail.message"]
                .sudo()
                .search([("message_id", "=", event.original_message_id)])
            )
            found = notifications.search(
                [
                    ("mail_message_id", "in", messages.ids),
                    ("notification_type", "=", "email"),
                    ("notification_status", "in", ("ready", "process", "pending", "sent")),
                    ("res_partner_id.email_normalized", "=", event.recipient),
                ]
            )
            found.write(
                {
                    "notification_status": "bounce",
                    "failure_type": "mail_bounce",
                    "failure_reason": event.diagnostic or False,
                }
            )
            notifications |= found
        return notifications

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

    @api.model
    def action_synchronize(self):
        result = super().action_synchronize()
        stuck = self._reconcile_stuck_mails()
        bounced = self._reconcile_late_bounces()
        params = result.setdefault("params", {})
        message = self.env._(
            "%(fetched)s Queued for longer than %(minutes)s min: %(stuck)s; accepted by the "
            "server, then marked bounced: %(bounced)s.",
            fetched=params.get("message", ""),
            stuck=stuck["count"],
            minutes=stuck["minutes"],
            bounced=bounced,
        )
        params["message"] = message
        if stuck["count"]:
            params["type"] = "warning"
        return result

    # ------------------------------------------------------------
    # RECONCILIATION
    # ------------------------------------------------------------

    @api.model
    def _reconcile_stuck_mails(self):
        """Flag the e-mails waiting in the queue for longer than the setting.

        :return: ``{"count": flagged now and before, "minutes": the setting}``
        """
        minutes = self.env["res.config.settings"]._get_log_settings()["stuck_minutes"]
        if not minutes:
            return {"count": 0, "minutes": 0}
        since = fields.Datetime.now() - timedelta(minutes=minutes)
        Mail = self.env["mail.mail"].sudo()
        stuck = Mail.search(
            [
                ("state", "=", "outgoing"),
                ("create_date", "<", since),
                "|",
                ("scheduled_date", "=", False),
                ("scheduled_date", "<", since),
            ]
        )
        stuck.filtered(lambda m: not m.mmd_stuck).write({"mmd_stuck": True})
        # a mail that left the queue is no longer stuck
        Mail.search([("mmd_stuck", "=", True), ("state", "!=", "outgoing")]).write(
            {"mmd_stuck": False}
        )
        if stuck:
            _logger.warning("%s e-mails queued for more than %s minutes", len(stuck), minutes)
        return {"count": len(stuck), "minutes": minutes}

    @api.model
    def _reconcile_late_bounces(self):
        """Mark bounced the traces and tracked e-mails a recent bounce answers but
        that still show a success (a bounce processed before the send was recorded,
        or by an older version of the addon).

        :return: number of records updated
        """
        since = fields.Datetime.now() - timedelta(days=RECONCILE_DAYS)
        events = self.sudo().search(
            [("kind", "in", ("hard", "soft")), ("create_date", ">=", since)]
        )
        traces = events.trace_id.filtered(
            lambda t: t.trace_status in ("pending", "sent", "open", "reply")
        )
        for trace in traces:
            event = events.filtered(lambda e, trace=trace: e.trace_id == trace)[:1]
            trace.write(
                {
                    "trace_status": "bounce",
                    "failure_type": "mail_bounce",
                    "failure_reason": event.diagnostic or False,
                    "bounce_kind": event.kind,
                    "delivery_error_id": event.delivery_error_id.id,
                }
            )
        notifications = events.filtered(lambda e: not e.trace_id)._mark_notifications_bounced()
        message_ids = [e.original_message_id for e in events if e.original_message_id]
        trackings = self.env["mail.tracking.email"].sudo()
        if message_ids:
            messages = self.env["mail.message"].sudo().search([("message_id", "in", message_ids)])
            recipients = {(e.original_message_id, e.recipient) for e in events}
            trackings = trackings.search(
                [
                    ("mail_message_id", "in", messages.ids),
                    ("state", "in", ("sent", "opened", "clicked")),
                ]
            ).filtered(
                lambda t: (t.mail_message_id.message_id, (t.email or "").lower()) in recipients
            )
            trackings._set_bounced()
        return len(traces) + len(trackings) + len(notifications)
