import json
import logging
from dataclasses import asdict

from odoo import api
from odoo import fields
from odoo import models
from odoo.tools import email_normalize

from ...tools import bounce_batch
from ...tools.bounce import BounceResult
from ...tools.providers import PROVIDER_SELECTION

_logger = logging.getLogger(__name__)


class MailBounceEvent(models.Model):
    """Events reported by a sending service's webhook (Amazon SES, Mailgun, SendGrid,
    Postmark, Brevo) or read in a mail server's log go through the same pipeline as the
    messages of the bounce mailbox: one event per recipient, matched to its trace by the
    provider's message id first (the server's reference kept at sending), then as a
    bounce is; classified by the registry and applied (suppression rules, alerts, outcome
    tags, sent e-mails log). The same event received twice is processed once."""

    _inherit = "mail.bounce.event"

    kind = fields.Selection(
        selection_add=[
            ("unsubscribed", "Unsubscribed"),
            ("rejected", "Refused by the sending service"),
        ],
        ondelete={"unsubscribed": "cascade", "rejected": "cascade"},
    )
    provider = fields.Selection(
        PROVIDER_SELECTION,
        string="Sending service",
        readonly=True,
        index="btree_not_null",
        help="The sending service that reported the event (empty: the bounce mailbox).",
    )
    mail_server_id = fields.Many2one(
        "ir.mail_server", string="Outgoing mail server", readonly=True, ondelete="set null"
    )
    provider_classification = fields.Char(
        string="Provider's classification",
        readonly=True,
        help="The sending service's own type for the event, in its words.",
    )
    provider_message_id = fields.Char(
        string="Provider message ID", readonly=True, index="btree_not_null"
    )
    provider_suppressed = fields.Boolean(
        string="Suppressed by the provider",
        readonly=True,
        help="The sending service did not try to deliver: the address is on its suppression "
        "list, because of an earlier bounce or complaint.",
    )
    tracking_email_id = fields.Many2one(
        "mail.tracking.email", string="Tracked e-mail", readonly=True, ondelete="set null"
    )

    # ------------------------------------------------------------
    # BUSINESS METHODS
    # ------------------------------------------------------------

    @api.model
    def _process_provider_events(self, server, provider_events):
        """Log and apply the events a sending service reported, as one batch: their
        traces read together, their events created in one statement and applied
        together (``_apply_events``). Events already processed are skipped.

        :param server: the ``ir.mail_server`` whose webhook received them (or empty)
        :param provider_events: list of ``tools.providers.ProviderEvent``
        :return: ``(created events, number of events already processed)``
        """
        todo, duplicates = self._split_new_provider_events(provider_events)
        return self._create_from_provider_events(server, todo), duplicates

    @api.model
    def _split_new_provider_events(self, provider_events):
        """The events of ``provider_events`` not processed yet (one query).

        :return: ``([(ProviderEvent, key, normalized recipient)], number of events
            already processed or repeated in the list)``; ``key`` is the event's
            ``provider:event id``, kept as the event's bounce Message-ID
        """
        keys = {f"{e.provider}:{e.event_id}" for e in provider_events}
        seen = {
            (event.bounce_message_id, event.recipient or "")
            for event in self.search_fetch(
                [("bounce_message_id", "in", list(keys))], ["bounce_message_id", "recipient"]
            )
        }
        todo = []
        duplicates = 0
        for provider_event in provider_events:
            key = f"{provider_event.provider}:{provider_event.event_id}"
            recipient = (
                email_normalize(provider_event.recipient or "")
                or (provider_event.recipient or "").lower()
            )
            if (key, recipient) in seen:
                duplicates += 1
                continue
            seen.add((key, recipient))
            todo.append((provider_event, key, recipient))
        return todo, duplicates

    @api.model
    def _create_from_provider_events(self, server, todo):
        """Create and apply the events of ``todo`` (``[(ProviderEvent, key, recipient)]``)."""
        if not todo:
            return self.browse()
        shared = {"bounced_msg_ids": []}
        traces = self._find_traces(
            [
                {
                    "recipient": recipient,
                    "original_message_id": provider_event.original_message_id,
                    "provider_message_id": provider_event.provider_message_id,
                }
                for provider_event, _key, recipient in todo
            ],
            shared,
        )
        vals_list, message_dicts, trackings = [], [], []
        for (provider_event, key, recipient), trace in zip(todo, traces, strict=True):
            tracking = self.env["mail.tracking.email"]
            original_message_id = provider_event.original_message_id
            if not trace:
                tracking = self._find_tracking(recipient, provider_event)
                original_message_id = tracking.mail_message_id.message_id or original_message_id
            trackings.append(tracking)
            message_dicts.append(
                {
                    "message_id": key,
                    "email_from": provider_event.provider,
                    "to": server.name if server else "",
                    "bounced_msg_ids": [original_message_id] if original_message_id else [],
                    "mmd_provider_message_id": provider_event.provider_message_id,
                    "body": provider_event.diagnostic,
                    "mmd_traces_by_message_id": shared.get("mmd_traces_by_message_id"),
                }
            )
            vals_list.append(
                self._prepare_provider_event_values(
                    server,
                    provider_event,
                    key,
                    recipient,
                    trace=trace,
                    tracking=tracking,
                    original_message_id=original_message_id,
                )
            )
        events = self.create(vals_list)
        for event, (provider_event, _key, recipient), tracking in zip(
            events, todo, trackings, strict=True
        ):
            if not event.trace_id and not tracking:
                event._keep_provider_payload(provider_event)
                _logger.info(
                    "%s event %s for %r: no e-mail of this database found, kept in the log",
                    provider_event.provider,
                    provider_event.kind,
                    recipient,
                )
        events._apply_events(dict(zip(events.ids, message_dicts, strict=True)))
        for event, tracking in zip(events, trackings, strict=True):
            if tracking and event.kind in ("hard", "soft"):
                tracking.filtered(lambda t: t.state != "bounced")._set_bounced()
                tracking.failure_reason = event.diagnostic or False
        return events

    @api.model
    def _prepare_provider_event_values(
        self, server, provider_event, key, recipient, *, trace, tracking, original_message_id
    ):
        result = BounceResult(
            recipient=recipient,
            kind=provider_event.kind,
            smtp_code=provider_event.smtp_code or None,
            status=provider_event.status or None,
            diagnostic=provider_event.diagnostic,
        )
        entry = (
            self._registry_entry(result, recipient)
            if provider_event.kind in ("hard", "soft", "delayed", "complaint")
            else self.env["mail.delivery.error"]
        )
        return {
            "kind": provider_event.kind,
            "recipient": recipient,
            "state": "matched" if trace or tracking else "unmatched",
            "smtp_code": provider_event.smtp_code or 0,
            "status": provider_event.status or False,
            "diagnostic": provider_event.diagnostic or False,
            "reporting_mta": provider_event.reporting_mta or False,
            "remote_mta": provider_event.remote_mta or False,
            "original_message_id": original_message_id or False,
            "feedback_type": provider_event.feedback_type or False,
            "bounce_message_id": key,
            "delivery_error_id": entry.id,
            "trace_id": trace.id,
            "mailing_id": trace.mass_mailing_id.id,
            "provider": provider_event.provider,
            "mail_server_id": server.id if server else False,
            "provider_classification": provider_event.classification or False,
            "provider_message_id": provider_event.provider_message_id or False,
            "provider_suppressed": provider_event.suppressed,
            "tracking_email_id": tracking.id,
        }

    @api.model
    def _find_traces(self, keys, message_dict):
        """The provider's message id (from the server's reply at sending) first, for
        the whole batch in one query."""
        Trace = self.env["mailing.trace"].sudo()
        provider_ids = {
            key["provider_message_id"] for key in keys if key.get("provider_message_id")
        }
        found = [Trace] * len(keys)
        if provider_ids:
            rows = [
                bounce_batch.TraceRow(trace.id, trace.email, trace.provider_message_id)
                for trace in Trace.search_fetch(
                    [("provider_message_id", "in", list(provider_ids))],
                    ["email", "provider_message_id", "message_id", "mass_mailing_id"],
                )
            ]
            for index, key in enumerate(keys):
                trace_id = bounce_batch.pick_trace(
                    rows, [key.get("provider_message_id")], key["recipient"]
                )
                found[index] = Trace.browse(trace_id) if trace_id else Trace
        missing = [index for index, trace in enumerate(found) if not trace]
        if missing:
            others = super()._find_traces([keys[index] for index in missing], message_dict)
            for index, trace in zip(missing, others, strict=True):
                found[index] = trace
        return self._prefetch_together(found)

    @api.model
    def _find_tracking(self, recipient, provider_event):
        """The tracked document e-mail a provider event answers: by the provider's message
        id, then by the original Message-ID and recipient."""
        Tracking = self.env["mail.tracking.email"].sudo()
        if provider_event.provider_message_id:
            domain = [("provider_message_id", "=", provider_event.provider_message_id)]
            if recipient:
                domain.append(("email", "=ilike", recipient))
            tracking = Tracking.search(domain, order="id desc", limit=1)
            if tracking:
                return tracking
        if provider_event.original_message_id and recipient:
            return Tracking.search(
                [
                    ("mail_message_id.message_id", "=", provider_event.original_message_id),
                    ("email", "=ilike", recipient),
                ],
                order="id desc",
                limit=1,
            )
        return Tracking

    def _keep_provider_payload(self, provider_event):
        """Attach what the service reported, as read, to an event no e-mail matched."""
        self.ensure_one()
        self.raw_attachment_id = (
            self.env["ir.attachment"]
            .sudo()
            .create(
                {
                    "name": f"{provider_event.provider}-event-{self.id}.json",
                    "raw": json.dumps(asdict(provider_event), indent=1, default=str).encode(),
                    "mimetype": "application/json",
                    "res_model": self._name,
                    "res_id": self.id,
                }
            )
        )

    # ------------------------------------------------------------
    # APPLICATION
    # ------------------------------------------------------------

    def _apply(self, rules, message_dict, plan):
        if self.kind == "unsubscribed":
            return self._apply_unsubscribed(message_dict)
        if self.kind == "rejected":
            return self.env._(
                "Logged only: the sending service refused to send this e-mail (%(reason)s).",
                reason=self.diagnostic or self.provider_classification or "-",
            )
        return super()._apply(rules, message_dict, plan)

    def _apply_unsubscribed(self, message_dict):
        if self.recipient:
            self.env["mail.blacklist"].sudo()._add_with_reason(
                self.recipient,
                "unsubscribed",
                evidence=self._provider_evidence(self.env._("Unsubscribed")),
                mailing=self.mailing_id,
                event=self,
            )
            return self.env._("Blocked: unsubscribed through the sending service.")
        return self.env._("Unsubscription recorded.")

    def _provider_evidence(self, words):
        """``words`` prefixed with the provider and its classification."""
        self.ensure_one()
        label = dict(self._fields["provider"]._description_selection(self.env)).get(
            self.provider, ""
        )
        if self.provider_suppressed:
            label = self.env._("%(provider)s (suppression list)", provider=label)
        classification = f" {self.provider_classification}" if self.provider_classification else ""
        return f"{label}{classification}: {words}"
