import logging

from markupsafe import Markup
from markupsafe import escape

from odoo import api
from odoo import fields
from odoo import models
from odoo.tools import email_normalize

from ..tools import failure_rate
from .mail_sent_log.log import ID_FACTOR
from .mail_sent_log.log import SOURCE_OFFSETS

_logger = logging.getLogger(__name__)

#: trace statuses that count as processed (sent, or failed trying) in a mailing's rate
PROCESSED_STATUSES = ("pending", "sent", "open", "reply", "bounce", "error")
#: error registry categories that speak about the list (the address is dead), not about a
#: passing state of the recipient's server or of ours (mailbox full, busy, outage...): only
#: these failures count towards a mailing's failure rate (with the spam complaints)
LIST_SIGNAL_CATEGORIES = ("recipient_unknown", "domain_unknown", "mailbox_disabled")


class MailDeliveryAlertRule(models.Model):
    """A rule that warns the responsible user when e-mails fail ("signals").

    Document rules act on each failed, bounced or complained-about e-mail of a
    document (any model, or the one chosen): the responsible user gets an activity
    on the document with the delivery error registry's explanation. Mailing rules
    act on a mass mailing's rate of failures among the e-mails processed so far: only the
    failures that speak about the list count (unknown recipients or domains, disabled
    mailboxes, spam complaints), and the rate is judged by its 95 % confidence interval
    (``tools/failure_rate.py``) once enough e-mails were processed. When the whole interval
    is above the threshold, the mailing's pending e-mails are put on hold (reversibly:
    "Resume" sends them) and its owner gets an activity on the mailing.
    """

    _name = "mail.delivery.alert.rule"
    _description = "Delivery alert rule"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one("res.company")
    scope = fields.Selection(
        [("document", "Document e-mails"), ("mailing", "Mass mailings")],
        required=True,
        default="document",
    )
    model_id = fields.Many2one(
        "ir.model",
        string="Documents",
        ondelete="cascade",
        domain=[("transient", "=", False)],
        help="Only the e-mails of these documents (empty: every document).",
    )
    trigger_failed = fields.Boolean(
        "Failed",
        default=True,
        help="Refused by the outgoing server at sending. Mass mailings: only the refusals "
        "that say the address is dead (unknown recipient or domain, disabled mailbox) count.",
    )
    trigger_bounced = fields.Boolean(
        "Bounced",
        default=True,
        help="A bounce came back after sending. Mass mailings: only the bounces that say "
        "the address is dead (unknown recipient or domain, disabled mailbox) count.",
    )
    trigger_complaint = fields.Boolean(
        "Spam complaint", default=True, help="The recipient reported the e-mail as spam."
    )
    rate_threshold = fields.Float(
        "Rate above (%)",
        default=5.0,
        help="Mass mailings: alert when the e-mails sent to unknown recipients or domains "
        "(or disabled mailboxes) and those reported as spam exceed this share of the e-mails "
        "processed so far. Temporary failures (mailbox full, server busy, an outage of the "
        "outgoing server) are not counted: they say nothing about the list. The rate must be "
        "above the limit with 95 % confidence: the lower bound of its 95 % confidence "
        "interval (Wilson score interval) must be above the limit, so a few failures among "
        "the first e-mails do not stop a mailing.",
    )
    min_sample = fields.Integer(
        "After at least",
        default=failure_rate.MIN_SAMPLE,
        help="Mass mailings: the rate is judged once this many e-mails were processed "
        "(and only when its confidence interval is entirely above the limit).",
    )
    pause_mailing = fields.Boolean(
        "Pause the mailing",
        default=True,
        help="Put the mailing's pending e-mails on hold until its owner resumes it.",
    )
    activity_type_id = fields.Many2one(
        "mail.activity.type",
        string="Activity",
        default=lambda self: self.env.ref("mail.mail_activity_data_todo", raise_if_not_found=False),
        domain=[("res_model", "=", False)],
    )

    _sql_constraints = [
        (
            "rate_threshold_range",
            "CHECK(rate_threshold >= 0 AND rate_threshold <= 100)",
            "The rate threshold is a percentage between 0 and 100.",
        ),
        ("min_sample_positive", "CHECK(min_sample >= 0)", "The minimum sample cannot be negative."),
    ]

    # ------------------------------------------------------------
    # RULE SELECTION
    # ------------------------------------------------------------

    @api.model
    def _get_rules(self, scope, trigger, model=None, company=None):
        """The active rules of ``scope`` that ``trigger`` (failed, bounced,
        complaint) fires, for documents of ``model``."""
        domain = [("scope", "=", scope), (f"trigger_{trigger}", "=", True)]
        if model:
            domain += ["|", ("model_id", "=", False), ("model_id.model", "=", model)]
        if company:
            domain += ["|", ("company_id", "=", False), ("company_id", "=", company.id)]
        return self.sudo().search(domain)

    # ------------------------------------------------------------
    # DOCUMENT ALERTS
    # ------------------------------------------------------------

    @api.model
    def _alert_document(self, trigger, model, res_id, *, recipients, entry, log_id, author=None):
        """Give the responsible user of a document an activity about a failed e-mail.

        :param trigger: failed, bounced or complaint
        :param model: the document's model name
        :param res_id: the document's id
        :param recipients: list of ``(email, res.partner)`` that failed
        :param entry: ``mail.delivery.error`` explaining the failure (may be empty)
        :param log_id: id of the ``mail.sent.log`` row to link (or False)
        :param author: ``res.partner`` author of the message (fallback responsible)
        :return: the ``mail.activity`` records created
        """
        activities = self.env["mail.activity"]
        if not model or not res_id or model not in self.env:
            return activities
        document_sudo = self.env[model].sudo().browse(res_id).exists()
        if not document_sudo or not hasattr(document_sudo, "activity_schedule"):
            return activities
        company = (
            document_sudo.company_id
            if "company_id" in document_sudo._fields
            and document_sudo._fields["company_id"].type == "many2one"
            else None
        )
        rules = self._get_rules("document", trigger, model=model, company=company)
        if not rules:
            return activities
        partners = self.env["res.partner"].union(*(p for _email, p in recipients if p))
        user = self._get_responsible_user(document_sudo, partners, author)
        if not user:
            _logger.info("Delivery alert on %s,%s: no responsible user", model, res_id)
            return activities
        for rule in rules[:1]:
            activities |= rule._schedule_activity(
                document_sudo,
                user,
                self._get_alert_summary(trigger, recipients),
                self._get_alert_note(trigger, recipients, entry, log_id),
            )
        return activities

    @api.model
    def _get_responsible_user(self, document, partners, author=None):
        """Who answers for a document's failed e-mail: the document's salesperson
        or responsible (``user_id``, ``invoice_user_id``), else the contact's
        salesperson, else the internal user who wrote the message."""
        for fname in ("user_id", "invoice_user_id"):
            field = document._fields.get(fname)
            if field and field.type == "many2one" and field.comodel_name == "res.users":
                user = document[fname]
                if user and user.active and not user.share:
                    return user
        for partner in partners:
            if partner.user_id and not partner.user_id.share:
                return partner.user_id
        if author:
            users = author.user_ids.filtered(lambda u: not u.share)
            if users:
                return users[:1]
        return self.env["res.users"]

    @api.model
    def _get_alert_summary(self, trigger, recipients):
        emails = ", ".join(email for email, _partner in recipients if email)
        if trigger == "bounced":
            return self.env._("E-mail bounced: %(emails)s", emails=emails)
        if trigger == "complaint":
            return self.env._("Spam complaint: %(emails)s", emails=emails)
        return self.env._("E-mail not sent: %(emails)s", emails=emails)

    @api.model
    def _get_alert_note(self, trigger, recipients, entry, log_id):
        lines = [
            Markup("<p>%s</p>")
            % self.env._(
                "The e-mail to %(emails)s could not be delivered.",
                emails=", ".join(email for email, _partner in recipients if email),
            )
        ]
        if entry:
            lines.append(Markup("<p><b>%s</b>: %s</p>") % (entry.name, entry.explanation or ""))
            if entry.advice:
                lines.append(
                    Markup("<p>%s</p>") % self.env._("What to do: %(advice)s", advice=entry.advice)
                )
        if log_id:
            url = f"/odoo/action-mass_mailing_delivery.mail_sent_log_action/{log_id}"
            lines.append(
                Markup('<p><a href="%s">%s</a></p>')
                % (url, self.env._("See it in the sent e-mails log"))
            )
        return Markup("").join(lines)

    def _schedule_activity(self, record_sudo, user, summary, note):
        """One open activity per record, user and summary: a repeated failure does
        not pile up activities."""
        self.ensure_one()
        existing = (
            self.env["mail.activity"]
            .sudo()
            .search(
                [
                    ("res_model", "=", record_sudo._name),
                    ("res_id", "=", record_sudo.id),
                    ("user_id", "=", user.id),
                    ("summary", "=", summary),
                ],
                limit=1,
            )
        )
        if existing:
            return self.env["mail.activity"]
        return record_sudo.activity_schedule(
            activity_type_id=self.activity_type_id.id
            or self.env.ref("mail.mail_activity_data_todo").id,
            summary=summary[:250],
            note=note,
            user_id=user.id,
        )

    # ------------------------------------------------------------
    # HOOKS (outgoing failures, bounce mailbox)
    # ------------------------------------------------------------

    @api.model
    def _alert_failed_mail(self, mail_sudo):
        """A document e-mail was refused at sending: alert its document's responsible."""
        if mail_sudo.mailing_id or not mail_sudo.model or not mail_sudo.res_id:
            return self.env["mail.activity"]
        failed = mail_sudo.notification_ids.filtered(
            lambda n: (
                n.notification_type == "email"
                and n.notification_status == "exception"
                and n.mail_mail_id == mail_sudo
            )
        )
        recipients = [
            (n.res_partner_id.email_normalized or n.res_partner_id.email or "", n.res_partner_id)
            for n in failed
        ]
        if not recipients and mail_sudo.email_to:
            recipients = [(mail_sudo.email_to, self.env["res.partner"])]
        if not recipients:
            recipients = [(p.email_normalized or p.email or "", p) for p in mail_sudo.recipient_ids]
        log_id = (
            failed[:1].id * ID_FACTOR + SOURCE_OFFSETS["notification"]
            if failed
            else mail_sudo.id * ID_FACTOR + SOURCE_OFFSETS["mail"]
        )
        tracking = (
            self.env["mail.tracking.email"]
            .sudo()
            .search([("mail_mail_id", "=", mail_sudo.id), ("state", "=", "failed")], limit=1)
        )
        if tracking:
            log_id = tracking.id * ID_FACTOR + SOURCE_OFFSETS["tracking"]
        return self._alert_document(
            "failed",
            mail_sudo.model,
            mail_sudo.res_id,
            recipients=recipients,
            entry=mail_sudo.delivery_error_id,
            log_id=log_id,
            author=mail_sudo.author_id,
        )

    @api.model
    def _alert_bounce_events(self, events_sudo):
        """The bounces and complaints of a batch came back: the mailings' rates judged
        once for the batch, the documents' responsibles alerted per event."""
        events_sudo = events_sudo.filtered(lambda e: e.kind in ("hard", "soft", "complaint"))
        self._check_mailings(events_sudo.mailing_id)
        for event_sudo in events_sudo.filtered(lambda e: not e.mailing_id):
            self._alert_bounce_event(event_sudo)

    @api.model
    def _alert_bounce_event(self, event_sudo):
        """A bounce or complaint came back: alert the document's responsible, or
        judge the mailing's rate."""
        trigger = {"hard": "bounced", "soft": "bounced", "complaint": "complaint"}.get(
            event_sudo.kind
        )
        if not trigger:
            return self.env["mail.activity"]
        if event_sudo.mailing_id:
            self._check_mailings(event_sudo.mailing_id)
            return self.env["mail.activity"]
        if not event_sudo.original_message_id:
            return self.env["mail.activity"]
        message = (
            self.env["mail.message"]
            .sudo()
            .search([("message_id", "=", event_sudo.original_message_id)], limit=1)
        )
        if not message.model or not message.res_id:
            return self.env["mail.activity"]
        email = email_normalize(event_sudo.recipient or "") or event_sudo.recipient or ""
        partner = (
            self.env["res.partner"].sudo().search([("email_normalized", "=", email)], limit=1)
            if email
            else self.env["res.partner"]
        )
        return self._alert_document(
            trigger,
            message.model,
            message.res_id,
            recipients=[(email, partner)],
            entry=event_sudo.delivery_error_id,
            log_id=False,
            author=message.author_id,
        )

    # ------------------------------------------------------------
    # MAILING RATE
    # ------------------------------------------------------------

    @api.model
    def _check_mailings(self, mailings):
        """Pause the mailings whose failure rate passes a mailing rule's threshold.

        Only the failures that speak about the list count (``_get_list_signals``); the
        rate passes the threshold when the lower bound of its 95 % confidence interval
        is above it, after at least the rule's minimum sample.

        :param mailings: ``mailing.mailing`` records (sending or sent)
        :return: the mailings paused now
        """
        paused = self.env["mailing.mailing"]
        if not mailings:
            return paused
        rules = self.sudo().search_fetch(
            [("scope", "=", "mailing")],
            [
                "trigger_failed",
                "trigger_bounced",
                "trigger_complaint",
                "rate_threshold",
                "min_sample",
                "pause_mailing",
            ],
        )
        if not rules:
            return paused
        # judged after every batch of bounces: read the two flags, not the mailings' bodies
        mailings.sudo().fetch(["mmd_paused", "mmd_resumed"])
        mailings = mailings.sudo().filtered(lambda m: not m.mmd_paused and not m.mmd_resumed)
        stats = self._get_mailing_stats(mailings) if mailings else {}
        for mailing in mailings:
            counts = stats.get(mailing.id, {})
            processed = counts.get("processed", 0)
            if not processed:
                continue
            for rule in rules:
                verdict = failure_rate.judge_rate(
                    rule._get_list_signals(counts),
                    processed,
                    rule.rate_threshold,
                    min_sample=rule.min_sample,
                )
                if not verdict.exceeded:
                    continue
                if rule.pause_mailing and mailing._mmd_pause(verdict):
                    paused |= mailing
                rule._alert_mailing(mailing, verdict)
                break
        return paused

    def _get_list_signals(self, counts):
        """The failures of a mailing that this rule counts: refusals at sending and
        bounces saying the address is dead, and spam complaints (as the rule's triggers
        say).

        :param counts: a mailing's counts from ``_get_mailing_stats``
        """
        self.ensure_one()
        return (
            (counts.get("error_list", 0) if self.trigger_failed else 0)
            + (counts.get("bounce_list", 0) if self.trigger_bounced else 0)
            + (counts.get("complaint", 0) if self.trigger_complaint else 0)
        )

    @api.model
    def _get_mailing_stats(self, mailings):
        """Per mailing id: ``processed`` (sent or failed trying), per trace status,
        ``error_list`` and ``bounce_list`` (failed or bounced with a category of
        ``LIST_SIGNAL_CATEGORIES``, not reported as spam) and ``complaint``."""
        stats = {}
        groups = (
            self.env["mailing.trace"]
            .sudo()
            ._read_group(
                [
                    ("mass_mailing_id", "in", mailings.ids),
                    ("trace_status", "in", PROCESSED_STATUSES),
                ],
                ["mass_mailing_id", "trace_status", "is_complaint", "delivery_error_category"],
                ["__count"],
            )
        )
        for mailing, status, is_complaint, category, count in groups:
            counts = stats.setdefault(mailing.id, {})
            counts["processed"] = counts.get("processed", 0) + count
            counts[status] = counts.get(status, 0) + count
            if is_complaint:
                counts["complaint"] = counts.get("complaint", 0) + count
            elif status in ("error", "bounce") and category in LIST_SIGNAL_CATEGORIES:
                key = f"{status}_list"
                counts[key] = counts.get(key, 0) + count
        return stats

    def _alert_mailing(self, mailing_sudo, verdict):
        """Give the mailing's owner an activity about its failure rate.

        :param verdict: the ``failure_rate.RateVerdict`` that passed the limit
        """
        self.ensure_one()
        user = mailing_sudo.user_id or mailing_sudo.create_uid
        if not user or user.share:
            return self.env["mail.activity"]
        summary = self.env._("Mailing paused: too many failures")
        if not (self.pause_mailing and mailing_sudo.mmd_paused):
            summary = self.env._("Mailing: too many failures")
        note = Markup("<p>%s</p>") % mailing_sudo._mmd_get_rate_explanation(verdict)
        if mailing_sudo.mmd_paused:
            note += Markup("<p>%s</p>") % self.env._(
                "Its pending e-mails are on hold: check the failures in the sent e-mails "
                "log (by recipient domain and error category), then resume the mailing."
            )
        url = "/odoo/action-mass_mailing_delivery.mail_sent_log_action"
        note += Markup('<p><a href="%s">%s</a></p>') % (
            url,
            escape(self.env._("See the sent e-mails log")),
        )
        return self._schedule_activity(mailing_sudo, user, summary, note)
