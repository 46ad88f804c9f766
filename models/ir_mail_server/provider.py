import logging
import time
from datetime import timedelta

from odoo import api
from odoo import fields
from odoo import models

from ...tools import providers
from ...tools.providers import PROVIDER_SELECTION
from ...tools.providers import brevo
from ...tools.providers import mailgun
from ...tools.providers import maillog
from ...tools.providers import postmark
from ...tools.providers import sendgrid
from ...tools.providers import ses

_logger = logging.getLogger(__name__)

READERS = {
    "ses": ses,
    "mailgun": mailgun,
    "sendgrid": sendgrid,
    "postmark": postmark,
    "brevo": brevo,
    "maillog": maillog,
}
#: the URL path of each provider's webhook (``<server id>`` appended)
WEBHOOK_PATH = "/mass_mailing_delivery/webhook/{provider}/{server_id}"
#: what a provider's reader raises on a payload malformed inside (read before any write)
MALFORMED = (AttributeError, TypeError, ValueError, KeyError, IndexError)
#: days counted by the event summary of the form
SUMMARY_DAYS = 7


class IrMailServer(models.Model):
    """An outgoing mail server can be a sending service (Amazon SES, Mailgun, SendGrid,
    Postmark, Brevo) whose webhook reports bounces, complaints and deliveries, or a
    Postfix/Exim relay whose log is read (``tools/maillog.py``). With no key, nothing is
    processed."""

    _inherit = "ir.mail_server"

    mmd_provider = fields.Selection(
        PROVIDER_SELECTION,
        string="Sending service",
        help="The service this server relays through: its events (bounces, complaints, "
        "deliveries) are received at the webhook URL below.",
    )
    mmd_provider_secret = fields.Char(
        string="Webhook key",
        groups="base.group_system",
        copy=False,
        help="Amazon SES: the ARN of the SNS topic. Mailgun: the HTTP webhook signing key. "
        "SendGrid: the verification key of the signed Event Webhook. Postmark: "
        "'user:password' of the webhook's basic authentication. Brevo: the webhook's token. "
        "Mail server log: the token given to the log reader. Without it, no event is "
        "processed.",
    )
    mmd_webhook_url = fields.Char(
        string="Webhook URL",
        compute="_compute_mmd_webhook_url",
        help="The exact URL to paste into the sending service's console.",
    )
    mmd_last_event_date = fields.Datetime(
        string="Last event received", compute="_compute_mmd_event_summary"
    )
    mmd_event_summary = fields.Char(string="Events (7 days)", compute="_compute_mmd_event_summary")

    # ------------------------------------------------------------
    # COMPUTES
    # ------------------------------------------------------------

    @api.depends("mmd_provider")
    def _compute_mmd_webhook_url(self):
        base_url = self.env["ir.config_parameter"].sudo().get_param("web.base.url", "")
        for server in self:
            server.mmd_webhook_url = (
                base_url.rstrip("/")
                + WEBHOOK_PATH.format(provider=server.mmd_provider, server_id=server.id)
                if server.mmd_provider and server.id
                else False
            )

    def _compute_mmd_event_summary(self):
        Event = self.env["mail.bounce.event"].sudo()
        since = fields.Datetime.now() - timedelta(days=SUMMARY_DAYS)
        server_ids = [server.id for server in self if server.id]
        last = dict(
            Event._read_group(
                [("mail_server_id", "in", server_ids)], ["mail_server_id"], ["create_date:max"]
            )
        )
        counts = {}
        for server, kind, count in Event._read_group(
            [("mail_server_id", "in", server_ids), ("create_date", ">=", since)],
            ["mail_server_id", "kind"],
            ["__count"],
        ):
            counts.setdefault(server, []).append((kind, count))
        waiting, last_waiting = {}, {}
        for server, count, received in (
            self.env["mail.provider.event"]
            .sudo()
            ._read_group(
                [("mail_server_id", "in", server_ids), ("state", "=", "queued")],
                ["mail_server_id"],
                ["__count", "create_date:max"],
            )
        ):
            waiting[server], last_waiting[server] = count, received
        labels = dict(Event._fields["kind"]._description_selection(self.env))
        for server in self:
            summary = [
                f"{labels.get(kind, kind)}: {count}"
                for kind, count in sorted(counts.get(server, []))
            ]
            if waiting.get(server):
                summary.append(self.env._("waiting: %(count)s", count=waiting[server]))
            server.mmd_last_event_date = max(
                filter(None, (last.get(server), last_waiting.get(server))), default=False
            )
            server.mmd_event_summary = ", ".join(summary) or self.env._("None")

    # ------------------------------------------------------------
    # WEBHOOK
    # ------------------------------------------------------------

    def _mmd_receive_webhook(self, provider, body, headers):
        """Check and process one POST of ``provider``'s webhook for this server.

        :param body: the raw request body (bytes)
        :param headers: the request headers (a mapping)
        :return: ``(HTTP status, text)``; on refusal nothing was changed. The events
            are kept to be applied in a moment (``mail.provider.event``)
        """
        self.ensure_one()
        server_sudo = self.sudo()
        if (
            provider not in READERS
            or server_sudo.mmd_provider != provider
            or not server_sudo.mmd_provider_secret
        ):
            return 404, "No such webhook"
        try:
            events = self._mmd_read_webhook(provider, body, headers)
        except providers.WebhookError as error:
            _logger.info(
                "%s webhook of server %s refused (%s): %s",
                provider,
                self.id,
                error.status,
                error.message,
            )
            return error.status, error.message
        if events is None:
            return 200, "Subscription confirmed"
        queued, duplicates = self.env["mail.provider.event"].sudo()._enqueue(self, events)
        if events and not queued and duplicates:
            return 409, "Already processed"
        return 200, f"OK: {queued} events queued"

    def _mmd_read_webhook(self, provider, body, headers):
        """The events of one POST (``None`` for a confirmed SNS subscription), or
        ``WebhookError`` with the status to answer. Nothing is written here."""
        secret = self.sudo().mmd_provider_secret
        try:
            if provider != "ses":
                return READERS[provider].read(body, headers, secret, time.time())
            events, message = ses.read(body, headers, secret, time.time())
            if message.get("Type") == "SubscriptionConfirmation":
                ses.confirm_subscription(message)
                _logger.info("Amazon SES: subscription to %s confirmed", message.get("TopicArn"))
                return None
            return events
        except MALFORMED as error:
            # the right shape at the top but not inside (a list for an object...)
            raise providers.WebhookError(400, f"Malformed payload ({error!r})") from error
        except OSError as error:
            raise providers.WebhookError(503, "Service unavailable") from error
