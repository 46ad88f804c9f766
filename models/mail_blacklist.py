import re

from markupsafe import Markup

from odoo import SUPERUSER_ID
from odoo import api
from odoo import fields
from odoo import models
from odoo.http import request
from odoo.tools import SQL
from odoo.tools import email_normalize
from odoo.tools import format_date

from ..tools import delivery_report

BLOCK_REASON_SELECTION = [
    ("unsubscribed", "Unsubscribed"),
    ("hard_bounce", "Hard bounce"),
    ("soft_bounce_limit", "Too many soft bounces"),
    ("complaint", "Spam complaint"),
    ("manual", "Blocked manually"),
    ("invalid", "Invalid address"),
]

#: URL prefix of core's public unsubscribe pages (a block made there is an unsubscription)
UNSUBSCRIBE_PATH = "/mailing/"
#: the mailing id in the URL of core's unsubscribe pages
UNSUBSCRIBE_MAILING_RE = re.compile(r"^/mailing/(\d+)/")


class MailBlacklist(models.Model):
    """Blocked addresses, with why, when, by which mailing or message, and the evidence.

    ``block_reason`` says why the address is blocked: the bounce processing sets
    hard_bounce, invalid (a hard bounce saying that the address cannot exist: unknown
    domain, bad syntax), soft_bounce_limit or complaint (the ``mail.bounce.event`` is
    kept as evidence); core's unsubscribe pages and opt-out reasons set unsubscribed; a
    user blocking by hand sets manual, with the evidence they type (by default, who
    blocked it). Unblocking asks for a reason (wizard ``mail.blacklist.remove``) that is
    logged in the chatter.
    """

    _inherit = "mail.blacklist"

    block_reason = fields.Selection(
        BLOCK_REASON_SELECTION,
        string="Block reason",
        default="manual",
        index=True,
        tracking=3,
        help="Why the address is blocked.",
    )
    block_date = fields.Datetime(
        string="Blocked on", default=fields.Datetime.now, help="When the address was blocked."
    )
    block_mailing_id = fields.Many2one(
        "mailing.mailing",
        string="Blocked by mailing",
        index="btree_not_null",
        ondelete="set null",
        help="The mailing whose delivery (or unsubscribe link) blocked the address.",
    )
    block_message_id = fields.Char(
        string="Blocked by message", help="Message-ID of the message that blocked the address."
    )
    block_evidence = fields.Text(
        string="Evidence", help="The bounce diagnostic, complaint type or unsubscribe reason."
    )
    bounce_event_id = fields.Many2one(
        "mail.bounce.event",
        string="Bounce event",
        index="btree_not_null",
        ondelete="set null",
        help="The bounce or complaint that blocked the address.",
    )
    block_summary = fields.Char(
        string="Block summary", compute="_compute_block_summary", help="Reason, date and evidence."
    )

    # ------------------------------------------------------------
    # COMPUTES
    # ------------------------------------------------------------

    @api.depends(
        "active",
        "block_reason",
        "block_date",
        "block_evidence",
        "bounce_event_id.delivery_error_id",
    )
    @api.depends_context("lang")
    def _compute_block_summary(self):
        """Reason and date (in the user's format), the evidence as a person reads it
        (the registry's name and the server's words once, not its repeated codes) and
        what to do."""
        labels = dict(self._fields["block_reason"]._description_selection(self.env))
        advice = self._get_block_advice()
        for entry in self:
            if not entry.active:
                entry.block_summary = False
                continue
            reason = entry.block_reason or "manual"
            lines = [
                self.env._(
                    "Blocked: %(reason)s (%(date)s)",
                    reason=labels.get(reason),
                    date=format_date(self.env, entry.block_date) if entry.block_date else "-",
                )
            ]
            error = entry.sudo().bounce_event_id.delivery_error_id
            evidence = entry.block_evidence or ""
            if entry.bounce_event_id and entry.bounce_event_id.kind != "complaint":
                evidence = delivery_report.readable_reply(evidence)
            if error and evidence:
                evidence = f"{error.display_name}: {evidence}"
            if evidence:
                lines.append(evidence[:300])
            what_to_do = (error and error.advice) or advice.get(reason)
            if what_to_do:
                lines.append(self.env._("What to do: %(advice)s", advice=what_to_do))
            entry.block_summary = "\n".join(lines)

    @api.model
    def _get_block_advice(self):
        """Block reason -> what to do about a blocked address."""
        return {
            "unsubscribed": self.env._(
                "The contact asked for no more e-mails: only they can subscribe again."
            ),
            "hard_bounce": self.env._(
                "The address does not exist: correct it on the contact, then remove the block."
            ),
            "invalid": self.env._(
                "The address cannot exist: correct it on the contact, then remove the block."
            ),
            "soft_bounce_limit": self.env._(
                "The mailbox refused e-mails several times in a row (full or disabled): "
                "check the address with the contact, then remove the block."
            ),
            "complaint": self.env._(
                "The contact marked an e-mail as spam: do not mail them again."
            ),
            "manual": self.env._(
                "Remove the block when the contact agrees to receive e-mails again."
            ),
        }

    # ------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------

    def _init_column(self, column_name):
        """Entries blocked before the addon: dated by their creation; *unsubscribed*
        with the opt-out reason as evidence when they have one, else *manual*."""
        if column_name == "block_date":
            self.env.cr.execute(
                SQL("UPDATE mail_blacklist SET block_date = create_date WHERE block_date IS NULL")
            )
            return
        if column_name == "block_reason":
            self.env.cr.execute(
                SQL(
                    """
                    UPDATE mail_blacklist
                       SET block_reason = CASE WHEN opt_out_reason_id IS NULL THEN 'manual'
                                               ELSE 'unsubscribed' END
                     WHERE block_reason IS NULL
                    """
                )
            )
            return
        if column_name == "block_evidence":
            self.env.cr.execute(
                SQL(
                    """
                    UPDATE mail_blacklist bl
                       SET block_evidence = o.name->>'en_US'
                      FROM mailing_subscription_optout o
                     WHERE o.id = bl.opt_out_reason_id AND bl.block_evidence IS NULL
                    """
                )
            )
            return
        super()._init_column(column_name)

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if "block_reason" not in vals:
                vals["block_reason"] = self._get_default_block_reason()
            if vals.get("opt_out_reason_id"):
                vals.update(self._prepare_optout_values(vals["opt_out_reason_id"]))
            if vals["block_reason"] == "manual" and not vals.get("block_evidence"):
                vals["block_evidence"] = self._get_manual_block_evidence()
        return super().create(vals_list)

    def write(self, vals):
        if vals.get("opt_out_reason_id") and "block_reason" not in vals:
            vals = dict(vals, **self._prepare_optout_values(vals["opt_out_reason_id"]))
        return super().write(vals)

    def _add(self, email, message=None):
        """Core's block entry point: a re-activated entry gets its new reason and date."""
        normalized = email_normalize(email)
        was_active = bool(
            normalized and self.with_context(active_test=True).search([("email", "=", normalized)])
        )
        record = super()._add(email, message=message)
        if record and not was_active and not self.env.context.get("mmd_keep_block_values"):
            reason = self._get_default_block_reason()
            evidence = self._get_manual_block_evidence() if reason == "manual" else False
            values = {
                "block_reason": reason,
                "block_date": fields.Datetime.now(),
                "block_evidence": evidence,
                "bounce_event_id": False,
                "block_mailing_id": False,
                "block_message_id": False,
            }
            if values["block_reason"] == "unsubscribed":
                values["block_mailing_id"] = self._get_unsubscribe_mailing().id
            record.write(values)
        return record

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

    def action_view_contacts(self):
        """The contacts and mailing contacts that use the blocked address."""
        self.ensure_one()
        partners = self.env["res.partner"].search([("email_normalized", "=", self.email)])
        action = {
            "type": "ir.actions.act_window",
            "name": self.env._("Contacts using %(email)s", email=self.email),
            "res_model": "res.partner",
            "views": [(False, "list"), (False, "form")],
            "domain": [("id", "in", partners.ids)],
            "context": {"create": False},
        }
        if len(partners) == 1:
            action.update(res_id=partners.id, views=[(False, "form")])
            return action
        if not partners:
            contacts = self.env["mailing.contact"].search([("email_normalized", "=", self.email)])
            action.update(
                res_model="mailing.contact",
                domain=[("id", "in", contacts.ids)],
            )
        return action

    def action_view_evidence(self):
        """Open the evidence of the block: the bounce event, else the mailing."""
        self.ensure_one()
        if self.bounce_event_id:
            return {
                "type": "ir.actions.act_window",
                "res_model": "mail.bounce.event",
                "res_id": self.bounce_event_id.id,
                "view_mode": "form",
                "views": [(False, "form")],
            }
        if self.block_mailing_id:
            return {
                "type": "ir.actions.act_window",
                "res_model": "mailing.mailing",
                "res_id": self.block_mailing_id.id,
                "view_mode": "form",
                "views": [(False, "form")],
            }
        return {
            "type": "ir.actions.act_window",
            "res_model": "mail.blacklist",
            "res_id": self.id,
            "view_mode": "form",
            "views": [(False, "form")],
        }

    # ------------------------------------------------------------
    # BUSINESS METHODS
    # ------------------------------------------------------------

    @api.model
    def _get_default_block_reason(self):
        """The reason of a block made without one: a context key, else ``unsubscribed``
        on core's public unsubscribe pages, else ``manual``."""
        reason = self.env.context.get("mmd_block_reason")
        if reason:
            return reason
        if request and request.httprequest.path.startswith(UNSUBSCRIBE_PATH):
            return "unsubscribed"
        return "manual"

    @api.model
    def _get_unsubscribe_mailing(self):
        """The mailing whose unsubscribe page serves the current request: its id is in
        the URL (``/mailing/<id>/unsubscribe``, ``/mailing/<id>/unsubscribe_oneclick``)
        or, for the confirmation form of the mailing's unsubscribe link, posted to
        ``/mailing/confirm_unsubscribe``, in the form (core checked its token first).

        :return: ``mailing.mailing`` record, sudo-ed (empty outside those pages)
        """
        Mailing = self.env["mailing.mailing"].sudo()
        if not request or not request.httprequest.path.startswith(UNSUBSCRIBE_PATH):
            return Mailing
        match = UNSUBSCRIBE_MAILING_RE.match(request.httprequest.path)
        mailing_id = match.group(1) if match else str(request.params.get("mailing_id") or "")
        return Mailing.browse(int(mailing_id)).exists() if mailing_id.isdigit() else Mailing

    @api.model
    def _get_manual_block_evidence(self):
        """The evidence of a block made by hand without one: who made it."""
        return self.env._("Blocked by %(user)s", user=self.env.user.name)

    @api.model
    def _prepare_optout_values(self, opt_out_reason_id):
        reason = self.env["mailing.subscription.optout"].sudo().browse(opt_out_reason_id)
        return {"block_reason": "unsubscribed", "block_evidence": reason.exists().name or False}

    @api.model
    def _add_with_reason(
        self, email, reason, evidence="", mailing=None, message_id=None, *, event=None
    ):
        """Block ``email`` for ``reason`` and keep why: the entry point of every block
        made by the addon (bounce processing, unsubscribe controller...).

        :param email: the address to block
        :param reason: a ``block_reason`` code (unsubscribed, hard_bounce, ...)
        :param evidence: the evidence text (bounce diagnostic, unsubscribe reason...)
        :param mailing: the ``mailing.mailing`` that caused it (record, id or None)
        :param message_id: the Message-ID of the message that caused it
        :param event: the ``mail.bounce.event`` that is the evidence (or None)
        :return: the ``mail.blacklist`` record (empty when ``email`` is not an address)
        """
        if not email_normalize(email or ""):
            return self.browse()
        labels = dict(self._fields["block_reason"]._description_selection(self.env))
        message = Markup("<p>%s</p>") % self.env._(
            "Blocked: %(reason)s. %(evidence)s",
            reason=labels.get(reason, reason),
            evidence=evidence or "",
        )
        mailing_id = mailing if isinstance(mailing, int) else (mailing.id if mailing else False)
        record = self.with_context(mmd_block_reason=reason, mmd_keep_block_values=True)._add(
            email, message=message
        )
        record.write(
            {
                "block_reason": reason,
                "block_date": fields.Datetime.now(),
                "block_evidence": evidence
                or (self._get_manual_block_evidence() if reason == "manual" else False),
                "block_mailing_id": mailing_id,
                "block_message_id": message_id or False,
                "bounce_event_id": event.id if event else False,
            }
        )
        return record

    @api.model
    def _add_from_delivery_event(self, event, reason):
        """Block ``event.recipient`` because of a bounce or complaint event.

        :param event: ``mail.bounce.event`` that is the evidence
        :param reason: block reason code (hard_bounce, soft_bounce_limit, complaint)
        :return: the ``mail.blacklist`` record
        """
        # the bounce processing blocked it, not the user who happened to run it: the
        # chatter logs the block under OdooBot
        return self.with_user(SUPERUSER_ID)._add_with_reason(
            event.recipient,
            reason,
            evidence=self._get_delivery_event_evidence(event),
            mailing=event.mailing_id,
            message_id=event.original_message_id or event.trace_id.message_id or False,
            event=event,
        )

    @api.model
    def _add_from_delivery_events(self, requests):
        """Block the addresses of a batch of bounce or complaint events, one request
        per address: the addresses never listed are created in one statement with their
        evidence, and their chatter notes (their first message) written in one more; an
        address listed before
        (active or not) goes through ``_add_from_delivery_event``.

        :param requests: ``[(mail.bounce.event, block reason code)]``, one per address
        :return: the ``mail.blacklist`` records
        """
        requests = [
            (event, reason, email)
            for event, reason in requests
            if (email := email_normalize(event.recipient or ""))
        ]
        if not requests:
            return self.browse()
        listed = set(
            self.with_context(active_test=False)
            .search_fetch([("email", "in", [email for _e, _r, email in requests])], ["email"])
            .mapped("email")
        )
        records = self.browse()
        for event, reason, email in requests:
            if email in listed:
                records |= self._add_from_delivery_event(event, reason)
        new = [request for request in requests if request[2] not in listed]
        if not new:
            return records
        # the note of the block is the entry's first message (no "created" log before it)
        Blacklist = self.with_user(SUPERUSER_ID).with_context(
            mmd_keep_block_values=True, mail_create_nosubscribe=True, mail_create_nolog=True
        )
        Creator = Blacklist.with_context(tracking_disable=True)
        now = fields.Datetime.now()
        evidences = [self._get_delivery_event_evidence(event) for event, _r, _e in new]
        # no follower, no tracking: the entry's first message is its note below
        created = Blacklist.browse(
            Creator.create(
                [
                    {
                        "email": email,
                        "block_reason": reason,
                        "block_date": now,
                        "block_evidence": evidence,
                        "block_mailing_id": event.mailing_id.id,
                        "block_message_id": event.original_message_id
                        or event.trace_id.message_id
                        or False,
                        "bounce_event_id": event.id,
                    }
                    for (event, reason, email), evidence in zip(new, evidences, strict=True)
                ]
            ).ids
        )
        by_email = {record.email: record for record in created}
        labels = dict(self._fields["block_reason"]._description_selection(self.env))
        created._message_log_batch(
            bodies={
                by_email[email].id: Markup("<p>%s</p>")
                % self.env._(
                    "Blocked: %(reason)s. %(evidence)s",
                    reason=labels.get(reason, reason),
                    evidence=evidence or "",
                )
                for (_event, reason, email), evidence in zip(new, evidences, strict=True)
            }
        )
        return records | created

    @api.model
    def _get_delivery_event_evidence(self, event):
        """The evidence of a block made because of ``event``: the server's words once
        (or the complaint's type), prefixed with the sending service that reported it."""
        if event.kind == "complaint":
            evidence = self.env._(
                "Spam complaint (feedback type: %(type)s)", type=event.feedback_type or "abuse"
            )
        else:
            # the server's words once: "5.1.1 550-5.1.1 The account..." reads
            # "550 5.1.1 The account..."
            evidence = delivery_report.readable_reply(
                " ".join(
                    part for part in (event.status, event.diagnostic or event.feedback_type) if part
                )
            )
        if event.provider:
            # reported by a sending service: say which, and in its words
            evidence = event._provider_evidence(evidence)
        return evidence

    @api.model
    def _get_block_summaries(self, emails):
        """``{normalized email: blacklist entry}`` of the active entries among ``emails``."""
        emails = [email for email in set(emails) if email]
        if not emails:
            return {}
        entries = self.sudo().with_context(active_test=True).search([("email", "in", emails)])
        return {entry.email: entry for entry in entries}
