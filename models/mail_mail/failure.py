import logging
import re
import smtplib
from datetime import timedelta

from odoo import api
from odoo import fields
from odoo import models
from odoo import tools
from odoo.osv import expression

from ...tools import delivery_report
from ...tools import verp
from ..ir_mail_server.smtp import SMTPReconnectError

_logger = logging.getLogger(__name__)

#: one refused recipient in smtplib's ``SMTPRecipientsRefused``:
#: ``'x@y.example': (550, b'5.1.1 <x@y.example>: User unknown')``
REFUSED_RECIPIENT_RE = re.compile(
    r"""['"]([^'"\s@]+@[^'"\s]+)['"]\s*:\s*"""
    r"""(\(\s*[45]\d\d\s*,\s*b?(?:'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")\s*\))"""
)
#: minutes after which the mail queue runs again for the mails a server could not take
UNREACHABLE_RETRY_MINUTES = 5


class MailMail(models.Model):
    """Links every failed outgoing e-mail to its delivery error registry entry,
    when the failure is recorded (state ``exception`` with a failure reason)."""

    _inherit = "mail.mail"

    delivery_error_id = fields.Many2one(
        "mail.delivery.error", string="Delivery error", index="btree_not_null", readonly=True
    )
    delivery_error_explanation = fields.Text(related="delivery_error_id.explanation")
    delivery_error_advice = fields.Text(related="delivery_error_id.advice")

    def write(self, vals):
        res = super().write(vals)
        if (
            vals.get("state") == "exception"
            and "delivery_error_id" not in vals
            and not self.env.context.get("mmd_link_at_postprocess")
        ):
            self._link_delivery_errors()
        return res

    def _postprocess_sent_message(self, success_pids, failure_reason=False, failure_type=None):
        if self.env.context.get("mmd_link_at_postprocess"):
            # while sending, the failures are classified here, once (see ``_send``)
            self._link_delivery_errors()
        # mass mailing traces keep the server's own reply (core leaves them "unknown")
        failed_traces = (
            self.sudo().filtered("mailing_id").mailing_trace_ids if failure_type else None
        )
        raw_reasons = {mail.id: failure_reason or mail.failure_reason for mail in self}
        # The document's chatter shows the notification's failure reason: lead with
        # the registry's plain explanation and advice, keep the server's own words.
        if failure_reason and len(self) == 1 and self.delivery_error_id:
            failure_reason = self._get_explained_failure_reason(failure_reason)
        res = super()._postprocess_sent_message(
            success_pids, failure_reason=failure_reason, failure_type=failure_type
        )
        if failed_traces:
            for trace in failed_traces.exists():
                trace._record_smtp_failure(raw_reasons.get(trace.mail_mail_id_int))
        if failure_type:
            self._mmd_apply_refusals_as_bounces(raw_reasons)
        return res

    def _mmd_apply_refusals_as_bounces(self, raw_reasons):
        """Hook: the receiving server refused recipients of these failed mails while
        they were sent; apply each refusal through the bounce pipeline, as the same
        reply arriving as a bounce would be (``mail.bounce.event._create_from_refusal``).

        :param raw_reasons: ``{mail id: the failure reason as recorded by core}``
        """
        Event = self.env["mail.bounce.event"].sudo()
        # core deletes a mail whose recipients were all invalid (failure type set)
        for mail in self.sudo().exists().filtered(lambda m: m.state == "exception"):
            trace = mail.mailing_trace_ids[:1] if mail.mailing_id else None
            for recipient, reply in self._mmd_get_refused_recipients(
                raw_reasons.get(mail.id) or "", mail, trace
            ):
                event = Event._create_from_refusal(
                    recipient, reply, message_id=mail.message_id, trace=trace
                )
                if event:
                    mail._mmd_record_address_action(event, trace)

    @api.model
    def _mmd_get_refused_recipients(self, failure_reason, mail, trace):
        """``[(address, reply)]`` refused in ``failure_reason``: the addresses smtplib
        names (``SMTPRecipientsRefused``), else the only recipient of the mail."""
        refused = [
            (match.group(1), delivery_report.smtp_failure_reason(match.group(2))[0])
            for match in REFUSED_RECIPIENT_RE.finditer(failure_reason)
        ]
        if refused:
            return refused
        reply, code, _status = delivery_report.smtp_failure_reason(failure_reason)
        if not code:
            return []
        if trace:
            return [(trace.email, reply)]
        addresses = tools.email_split(mail.email_to or "") + [
            partner.email for partner in mail.recipient_ids if partner.email
        ]
        return [(addresses[0], reply)] if len(addresses) == 1 else []

    def _mmd_record_address_action(self, event, trace):
        """Say on the failure what the suppression rules did to the address."""
        self.ensure_one()
        line = self.env._(
            "%(address)s: %(action)s", address=event.recipient, action=event.action_taken
        )
        if trace:
            trace.address_action = event.action_taken
        notifications = self.notification_ids.filtered(
            lambda n: (
                n.notification_status == "exception"
                and n.res_partner_id.email_normalized == event.recipient
            )
        )
        for notification in notifications:
            notification.failure_reason = "\n".join(
                part for part in (notification.failure_reason, line) if part
            )

    def _get_explained_failure_reason(self, failure_reason):
        self.ensure_one()
        entry = self.delivery_error_id.with_context(lang=self.author_id.lang or self.env.lang)
        return self.env._(
            "%(name)s: %(explanation)s\nWhat to do: %(advice)s\n\nServer reply: %(reason)s",
            name=entry.name,
            explanation=entry.explanation,
            advice=entry.advice,
            reason=self._mmd_readable_failure(failure_reason),
        )

    @api.model
    def _mmd_readable_failure(self, failure_reason):
        """The server's words of ``failure_reason``, not the exception's repr
        (``SMTPRecipientsRefused: {...}``): each refused address with its reply."""
        refused = [
            (match.group(1), delivery_report.readable_reply(match.group(2)))
            for match in REFUSED_RECIPIENT_RE.finditer(failure_reason)
        ]
        if len(refused) > 1:
            return "; ".join(f"{address}: {reply}" for address, reply in refused)
        return delivery_report.readable_reply(failure_reason) or failure_reason

    def _link_delivery_errors(self):
        """Classify the failed mails of ``self``; return how many got an entry."""
        return (
            self.env["mail.delivery.error"]
            .sudo()
            ._link_failures(
                self.filtered(lambda m: m.state == "exception"),
                lambda mail: mail.failure_reason,
                lambda mail: mail.email_to or mail.recipient_ids[:1].email,
            )
        )

    def _reclassify_failures(self, limit=50000, entries=None):
        """Classify again the failed mails no entry explains yet and, after ``entries``
        were saved, those these entries may explain better (see ``mailing.trace``)."""
        Error = self.env["mail.delivery.error"].sudo()
        entries = entries or Error
        mails = self.sudo().search(
            expression.AND(
                [[("state", "=", "exception")], entries._get_reclassify_domain(["failure_reason"])]
            ),
            order="id desc",
            limit=limit,
        )
        return Error._link_failures(
            mails,
            lambda mail: mail.failure_reason,
            lambda mail: mail.email_to or mail.recipient_ids[:1].email,
            saved=entries,
        )

    # ------------------------------------------------------------
    # VERP
    # ------------------------------------------------------------

    def _prepare_outgoing_list(self, mail_server=False, recipients_follower_status=None):
        """Lock the mail before it is sent, and with VERP on, name its trace in the
        envelope sender.

        Core marks the mail before sending it "to provoke the failure earlier" when
        another worker sends it at the same time, but the ORM defers that UPDATE past
        the SMTP conversation: two workers on one queue then both send the mail (the
        test of two workers proves it). Flushing it here takes the row lock first: the
        second worker waits, then fails to serialize and sends nothing. A mail the
        mail queue claimed (``mmd_claimed``, see ``mail_mail_queue``) is this worker's
        alone: no lock to take."""
        if not self.env.context.get("mmd_claimed"):
            self.flush_recordset(["state", "failure_reason"])
        email_list = super()._prepare_outgoing_list(
            mail_server=mail_server, recipients_follower_status=recipients_follower_status
        )
        trace = self.mailing_trace_ids[:1] if self.mailing_id else self.mailing_trace_ids.browse()
        if trace and self.env["res.config.settings"]._get_delivery_rules()["verp"]:
            secret = self.env["ir.config_parameter"].sudo().get_param("database.secret")
            for email_values in email_list:
                bounce_address = email_values["headers"].get("Return-Path")
                if bounce_address:
                    email_values["headers"]["Return-Path"] = verp.encode(
                        bounce_address, trace.id, secret
                    )
        return email_list

    # ------------------------------------------------------------
    # LOST CONNECTIONS
    # ------------------------------------------------------------

    def _send(  # noqa: PLR0917 (core's signature)
        self,
        auto_commit=False,
        raise_exception=False,
        smtp_session=None,
        alias_domain_id=False,
        mail_server=False,
        post_send_callback=None,
    ):
        """Core's sending, except that a connection lost in the middle of a batch (the
        server hung up, or timed out: smtplib then closes the session) no longer stops
        the batch. Core re-raises, and the mail at fault stays queued and stops the
        queue again at every run: here it is marked failed with the reason, and the rest
        of the batch goes on (the closed session is replaced once, by
        ``ir.mail_server.send_email``, for the rest of the batch).

        When the server cannot be reached again (``SMTPReconnectError``: connection
        refused, ``421`` greeting...), the mail in hand fails with that reason (a
        temporary failure, retryable) and the rest of the batch stays queued for the
        next run of the queue, untouched: trying each of them now would meet the same
        server (with a connection timeout each, for a host that does not answer).

        Core marks every mail failed ("Error without exception") just before sending
        it: the failures are classified in ``_postprocess_sent_message``, once a send
        failed for real, not at each of these marks (a fifth of the sending time)."""
        self = self.with_context(mmd_link_at_postprocess=True)  # noqa: PLW0642
        remaining = self
        while remaining:
            # core sends in this order, and marks each mail before sending it
            queued_ids = [mail.id for mail in remaining if mail.state == "outgoing"]
            try:
                return super(MailMail, remaining)._send(
                    auto_commit=auto_commit,
                    raise_exception=raise_exception,
                    smtp_session=smtp_session,
                    alias_domain_id=alias_domain_id,
                    mail_server=mail_server,
                    post_send_callback=post_send_callback,
                )
            except smtplib.SMTPServerDisconnected as error:
                if raise_exception:
                    raise
                still_queued = set(
                    self.browse(queued_ids).exists().filtered(lambda m: m.state == "outgoing").ids
                )
                touched = [mail_id for mail_id in queued_ids if mail_id not in still_queued]
                current = self.browse(touched[-1:]).exists()
                if isinstance(error, SMTPReconnectError):
                    current._mmd_fail_on_reconnect(error)
                    if still_queued:
                        # the mail queue runs hourly: come back for them sooner
                        self.env.ref("mail.ir_cron_mail_scheduler_action").sudo()._trigger(
                            fields.Datetime.now() + timedelta(minutes=UNREACHABLE_RETRY_MINUTES)
                        )
                    _logger.info(
                        "SMTP server unreachable (%s): the %s mails left in the batch stay "
                        "queued for the next run",
                        error,
                        len(still_queued),
                    )
                    return True
                current._mmd_fail_on_lost_connection(error)
                remaining = self.browse([i for i in queued_ids if i in still_queued])
                _logger.info(
                    "SMTP connection lost (%s): the %s mails left in the batch go on",
                    error,
                    len(remaining),
                )
        return True

    def _mmd_fail_on_lost_connection(self, error):
        self.ensure_one()
        failure_reason = self.env._(
            "The mail server closed the connection while this e-mail was being sent: %(error)s",
            error=tools.exception_to_unicode(error),
        )
        self._mmd_fail_with(failure_reason)

    def _mmd_fail_on_reconnect(self, error):
        """Fail this mail: the server, which had closed the session, could not be
        reached again (``error`` is a ``SMTPReconnectError``)."""
        self.ensure_one()
        failure_reason = self.env._(
            "The mail server closed the connection and could not be reached again: %(error)s",
            error=tools.exception_to_unicode(error.args[0] if error.args else error),
        )
        self._mmd_fail_with(failure_reason)

    def _mmd_fail_with(self, failure_reason):
        """Record a connection-level SMTP failure (temporary, retryable) on this mail."""
        self.ensure_one()
        self.write(
            {"state": "exception", "failure_type": "mail_smtp", "failure_reason": failure_reason}
        )
        self._postprocess_sent_message(
            success_pids=[], failure_reason=failure_reason, failure_type="mail_smtp"
        )
