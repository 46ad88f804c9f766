from collections import defaultdict
from datetime import timedelta

from markupsafe import Markup

from odoo import api
from odoo import fields
from odoo import models
from odoo import tools
from odoo.addons.mail.models.mail_thread_blacklist import MailBlackListMixin
from odoo.osv import expression
from odoo.tools import SQL
from odoo.tools import html2plaintext

from ...tools import bounce_batch

#: how far back a bounce without Message-ID is matched to a trace by recipient
RECENT_TRACE_DAYS = 30
#: kinds that are failures of delivery (core records them as bounces)
CORE_BOUNCE_KINDS = ("hard", "soft")


class MailBounceEvent(models.Model):
    """A batch of bounce events matched and recorded at once.

    The traces the batch answers are read in one query per way of matching them.

    Core records a bounce with one pass of its gateway per bounced address: the bounce
    counter of every contact and mailing contact using the address (and of the
    document the e-mail was about), the e-mail notifications of the bounced message,
    the mass mailing traces of the bounced Message-ID, and its automatic blacklist
    (five bounces in three months, over more than a week). This does the same for all
    the events of one message of the bounce mailbox or one webhook POST, with one
    query per kind of record, then puts the parsed diagnostic and registry entry on the
    traces. A refusal at sending is already recorded as its e-mail's failure: skipped.
    """

    _inherit = "mail.bounce.event"

    # ------------------------------------------------------------
    # MATCHING
    # ------------------------------------------------------------

    @api.model
    def _find_traces(self, keys, message_dict):
        """The traces a batch of bounces answers, in the order of ``keys``: by
        Message-ID, then by the VERP bounce address, then by recipient and recency;
        each way is one query for the whole batch.

        :param keys: one dict per bounce: ``recipient`` (normalized, may be ''),
            ``original_message_id`` (may be empty)
        :param message_dict: the values of the message they came in (its
            ``bounced_msg_ids``, ``mmd_verp_trace``)
        :return: list of ``mailing.trace`` records (empty where none is found)
        """
        Trace = self.env["mailing.trace"].sudo()
        found = [Trace] * len(keys)
        bounced_msg_ids = message_dict.get("bounced_msg_ids") or []
        message_ids = {
            index: [key["original_message_id"], *bounced_msg_ids]
            if key.get("original_message_id")
            else list(bounced_msg_ids)
            for index, key in enumerate(keys)
        }
        all_ids = {mid for mids in message_ids.values() for mid in mids if mid}
        if all_ids:
            rows = [
                bounce_batch.TraceRow(trace.id, trace.email, trace.message_id)
                for trace in Trace.search_fetch(
                    [("message_id", "in", list(all_ids))],
                    ["email", "message_id", "mass_mailing_id"],
                )
            ]
            # every trace of these Message-IDs is known: core's bounce records need them
            known = message_dict.setdefault("mmd_traces_by_message_id", {})
            for mid in all_ids:
                known[mid] = [row.id for row in rows if row.key == mid]
            for index, key in enumerate(keys):
                trace_id = bounce_batch.pick_trace(rows, message_ids[index], key["recipient"])
                found[index] = Trace.browse(trace_id) if trace_id else Trace
        verp_trace = message_dict.get("mmd_verp_trace")
        if verp_trace:
            found = [trace or verp_trace for trace in found]
        return self._prefetch_together(self._find_recent_traces(keys, found))

    @api.model
    def _prefetch_together(self, traces):
        """``traces`` (one record or empty each) reading their fields together."""
        ids = [trace.id for trace in traces if trace]
        return [trace.with_prefetch(ids) for trace in traces]

    @api.model
    def _find_recent_traces(self, keys, found):
        """Complete ``found`` with the most recent trace sent to each recipient still
        without one (one query)."""
        Trace = self.env["mailing.trace"].sudo()
        missing = {
            key["recipient"].lower()
            for key, trace in zip(keys, found, strict=True)
            if not trace and key["recipient"]
        }
        if not missing:
            return found
        since = fields.Datetime.now() - timedelta(days=RECENT_TRACE_DAYS)
        domain = expression.AND(
            [
                expression.OR([[("email", "=ilike", email)] for email in sorted(missing)]),
                [
                    ("create_date", ">=", since),
                    ("trace_status", "in", ("sent", "open", "reply", "bounce", "pending")),
                ],
            ]
        )
        latest = {}
        for trace in Trace.search_fetch(domain, ["email"], order="id desc"):
            latest.setdefault((trace.email or "").lower(), trace)
        return [
            trace or (latest.get(key["recipient"].lower(), Trace) if key["recipient"] else Trace)
            for key, trace in zip(keys, found, strict=True)
        ]

    # ------------------------------------------------------------
    # CORE'S BOUNCE RECORDS
    # ------------------------------------------------------------

    @api.model
    @tools.ormcache()
    def _get_bounce_counter_models(self):
        """The models with core's bounce counter (``mail.thread.blacklist``), as core's
        bounce handling lists them."""
        mixin = self.env.registry["mail.thread.blacklist"]
        return tuple(
            name
            for name, model in self.env.registry.items()
            if name != "mail.thread.blacklist"
            and not model._abstract
            and not model._transient
            and issubclass(model, mixin)
        )

    def _apply_core_bounces(self, message_dicts, plan):
        """Record the bounces of ``self`` as core does, in one batch.

        :param message_dicts: ``{event id: values of the message it came in}``
        :param plan: the batch's plan (``_prepare_plan``): the traces bounced are added
        """
        events = self.filtered(lambda e: e.kind in CORE_BOUNCE_KINDS and e.source != "refusal")
        if not events:
            return
        msg_ids = {
            event.id: [event.trace_id.message_id]
            if event.trace_id.message_id
            else list((message_dicts.get(event.id) or {}).get("bounced_msg_ids") or [])
            for event in events
        }
        emails = sorted({event.recipient for event in events if event.recipient})
        Partner = self.env["res.partner"].sudo()
        partners = defaultdict(Partner.browse)
        if emails:
            for partner in Partner.search_fetch(
                [("email_normalized", "in", emails)], ["email_normalized", "message_bounce"]
            ):
                partners[partner.email_normalized] |= partner
        messages = self._get_bounced_messages({mid for ids in msg_ids.values() for mid in ids})
        bounced = {
            event.id: max(
                (messages[mid] for mid in msg_ids[event.id] if mid in messages),
                key=lambda message: message.id,
                default=self.env["mail.message"].sudo(),
            )
            for event in events
        }
        bounced_events = events.filtered("recipient")
        bounced_events._core_receive_bounces(partners, bounced)
        bounced_events._core_mark_notifications(partners, bounced, message_dicts)
        events._core_set_traces_bounced(msg_ids, message_dicts, plan)
        # one write per set of values (a burst repeats few diagnostics); the last
        # event of a trace wins, as writing them one by one did
        values = {}
        for event in events.filtered("trace_id"):
            values[event.trace_id.id] = (
                event.diagnostic or False,
                event.kind,
                event.delivery_error_id.id,
            )
            plan["traces"].append(event.trace_id.id)
        groups = defaultdict(list)
        for trace_id, key in values.items():
            groups[key].append(trace_id)
        for (reason, kind, entry_id), trace_ids in groups.items():
            self.env["mailing.trace"].sudo().browse(trace_ids).write(
                {
                    "trace_status": "bounce",
                    "failure_type": "mail_bounce",
                    "failure_reason": reason,
                    "bounce_kind": kind,
                    "delivery_error_id": entry_id,
                }
            )
        self._core_auto_blacklist(emails, partners)

    @api.model
    def _get_bounced_messages(self, message_ids):
        """``{Message-ID: the most recent mail.message with it}`` (one query)."""
        if not message_ids:
            return {}
        found = {}
        for message in (
            self.env["mail.message"]
            .sudo()
            .search_fetch(
                [("message_id", "in", list(message_ids))],
                ["message_id", "model", "res_id"],
                order="id desc",
            )
        ):
            found.setdefault(message.message_id, message)
        return found

    def _core_receive_bounces(self, partners, bounced):
        """Count one bounce on every record using each event's address (contacts,
        mailing contacts...) and on the document of the bounced message, once each per
        event, as core's ``_routing_handle_bounce`` does."""
        emails = sorted(set(self.mapped("recipient")))
        by_model = {}
        for model_name in self._get_bounce_counter_models():
            if model_name == "res.partner":
                # the contacts of the addresses, read already
                by_model[model_name] = partners
                continue
            Model = self.env[model_name].sudo()
            records = defaultdict(Model.browse)
            for record in Model.search_fetch(
                [("email_normalized", "in", emails)], ["email_normalized", "message_bounce"]
            ):
                records[record.email_normalized] |= record
            by_model[model_name] = records
        # core's own counter, not overridden by any module: counted in bulk below
        plain = MailBlackListMixin._message_receive_bounce
        counted = defaultdict(int)
        for event in self:
            email = event.recipient
            message = bounced[event.id]
            document = (
                self.env[message.model].sudo().browse(message.res_id).exists()
                if message.model and message.model in self.env and message.res_id
                else None
            )
            document_done = False
            for model_name, records in by_model.items():
                if type(records[email])._message_receive_bounce is plain:
                    # core's counter alone: counted below, one write per new value
                    for record in records[email]:
                        counted[record] += 1
                else:
                    records[email]._message_receive_bounce(email, partners[email])
                document_done = document_done or (
                    document is not None
                    and model_name == message.model
                    and document in records[email]
                )
            if document and not document_done and isinstance(document, self.pool["mail.thread"]):
                document._message_receive_bounce(email, partners[email])
        self._core_count_bounces(counted)

    @api.model
    def _core_count_bounces(self, counted):
        """Add ``{record: bounces}`` to core's bounce counters (``message_bounce``), as
        ``mail.thread.blacklist._message_receive_bounce`` does one by one: one write per
        model and new value."""
        groups = defaultdict(list)
        for record, count in counted.items():
            groups[(record._name, record.message_bounce + count)].append(record.id)
        for (model_name, value), ids in groups.items():
            self.env[model_name].sudo().browse(ids).write({"message_bounce": value})

    def _core_mark_notifications(self, partners, bounced, message_dicts):
        """Mark bounced the e-mail notifications of the bounced messages to the bounced
        contacts (one query)."""
        pairs = {
            (bounced[event.id].id, partner.id): event
            for event in self
            if bounced[event.id]
            for partner in partners[event.recipient]
        }
        if not pairs:
            return
        notifications = (
            self.env["mail.notification"]
            .sudo()
            .search(
                [
                    ("mail_message_id", "in", list({message for message, _p in pairs})),
                    ("res_partner_id", "in", list({partner for _m, partner in pairs})),
                ]
            )
        )
        for notification in notifications:
            event = pairs.get((notification.mail_message_id.id, notification.res_partner_id.id))
            if event:
                body = (message_dicts.get(event.id) or {}).get("body") or ""
                notification.write(
                    {
                        "failure_reason": html2plaintext(body),
                        "failure_type": "mail_bounce",
                        "notification_status": "bounce",
                    }
                )

    def _core_set_traces_bounced(self, msg_ids, message_dicts, plan):
        """Mark bounced the traces of the bounced Message-IDs other than the events'
        own (mass mailing's ``set_bounced``; one query)."""
        all_ids = {mid for ids in msg_ids.values() for mid in ids}
        if not all_ids:
            return
        own = set(self.trace_id.ids)
        Trace = self.env["mailing.trace"].sudo()
        known = {}
        for message_dict in message_dicts.values():
            known.update(message_dict.get("mmd_traces_by_message_id") or {})
        if all_ids <= known.keys():
            # read with the bounces' own traces (``_find_traces``)
            traces = Trace.browse(sorted({tid for mid in all_ids for tid in known[mid]} - own))
        else:
            traces = Trace.search_fetch(
                [("message_id", "in", list(all_ids))], ["message_id"]
            ).filtered(lambda trace: trace.id not in own)
        for event in self:
            body = (message_dicts.get(event.id) or {}).get("body") or ""
            for trace in traces.filtered(lambda t, e=event: t.message_id in msg_ids[e.id]):
                trace.write(
                    {
                        "failure_reason": html2plaintext(body),
                        "failure_type": "mail_bounce",
                        "trace_status": "bounce",
                    }
                )
                plan["traces"].append(trace.id)

    @api.model
    def _core_auto_blacklist(self, emails, partners):
        """Core's automatic blacklist: an address that bounced on five traces in three
        months, over more than a week, is blocked (one aggregate query, and only for
        the addresses whose contacts bounced that often)."""
        candidates = [
            email
            for email in emails
            if not partners[email]
            or any(
                p.message_bounce >= bounce_batch.CORE_BLACKLIST_MIN_BOUNCES for p in partners[email]
            )
        ]
        if not candidates:
            return
        Trace = self.env["mailing.trace"]
        Trace.flush_model(["trace_status", "write_date", "email"])
        since = fields.Datetime.now() - timedelta(days=bounce_batch.CORE_BLACKLIST_DAYS)
        self.env.cr.execute(
            SQL(
                """
                SELECT lower(email), count(*), min(write_date), max(write_date)
                  FROM mailing_trace
                 WHERE trace_status = 'bounce' AND write_date > %(since)s
                   AND lower(email) = ANY(%(emails)s)
                 GROUP BY lower(email)
                """,
                since=since,
                emails=[email.lower() for email in candidates],
            )
        )
        for email, count, first, last in self.env.cr.fetchall():
            bounces = partners[email].mapped("message_bounce")
            if bounce_batch.core_blacklist_due(count, first, last, bounces):
                self.env["mail.blacklist"].sudo()._add(
                    email,
                    message=Markup("<p>%s</p>")
                    % self.env._(
                        "This email has been automatically added in blocklist because of "
                        "too much bounced."
                    ),
                )
