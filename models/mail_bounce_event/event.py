import logging
from collections import defaultdict
from email import message_from_bytes
from email import policy
from email.parser import BytesParser

from odoo import api
from odoo import fields
from odoo import models
from odoo.osv import expression
from odoo.tools import email_normalize
from odoo.tools import email_split

from ...tools import bounce as bounce_parser
from ...tools import bounce_batch
from ...tools import delivery_errors
from ...tools import verp

_logger = logging.getLogger(__name__)
# flufl.bounce logs a detector's traceback before re-raising; tools/bounce/ catches it and
# keeps the message for inspection, so the traceback is noise in the server log.
logging.getLogger("flufl.bounce").setLevel(logging.CRITICAL)

KIND_SELECTION = [
    ("hard", "Hard bounce"),
    ("soft", "Soft bounce"),
    ("delayed", "Delayed"),
    ("complaint", "Spam complaint"),
    ("auto_reply", "Automatic reply"),
    ("delivered", "Delivered"),
    ("unknown", "Unrecognised"),
]

#: kinds that are failures of delivery (and so count as bounces)
BOUNCE_KINDS = ("hard", "soft")
#: registry categories of a hard bounce that says the address cannot exist: blocked as
#: *Invalid address*, not as *Hard bounce*
INVALID_ADDRESS_CATEGORIES = ("domain_unknown",)
#: enhanced status codes (subject.detail) that say so: X.1.2 bad destination system
#: (the domain does not exist), X.1.3 bad mailbox address syntax (RFC 3463)
INVALID_ADDRESS_STATUSES = ("1.2", "1.3")
#: registry categories of a refusal at sending that say nothing about the address (the
#: server is busy or limits us, or our own side failed): not applied as bounces
NOT_ADDRESS_CATEGORIES = ("server_error", "rate_limited")


class MailBounceEvent(models.Model):
    """One recipient's outcome read from a message of the bounce mailbox.

    Every DSN (RFC 3464), ARF complaint (RFC 5965), non-standard bounce or
    automatic reply that reaches the bounce alias is parsed by
    ``tools/bounce/`` into one event per recipient, matched to the trace it
    answers (by Message-ID, then by recipient and recency), classified by the
    delivery error registry and applied: hard bounces and complaints block the
    address, soft bounces feed the consecutive-bounce counter, delays and
    automatic replies are logged and never count as bounces. A message that
    cannot be read is kept whole (``raw_attachment_id``) for inspection.

    States: ``matched`` (linked to a trace or a sent message), ``unmatched``
    (no trace found: logged, nothing lost).
    """

    _name = "mail.bounce.event"
    _description = "Bounce Event"
    _order = "id desc"
    _rec_name = "recipient"
    _sql_constraints = [
        (
            "bounce_message_recipient_unique",
            "UNIQUE(bounce_message_id, recipient)",
            "This recipient of this bounce message was already processed.",
        ),
    ]

    kind = fields.Selection(KIND_SELECTION, required=True, index=True, readonly=True)
    recipient = fields.Char(index=True, readonly=True)
    state = fields.Selection(
        [("matched", "Matched"), ("unmatched", "Unmatched")],
        required=True,
        default="unmatched",
        readonly=True,
    )
    smtp_code = fields.Integer(string="SMTP code", readonly=True, aggregator=False)
    status = fields.Char(string="Status code", readonly=True, help="RFC 3463 enhanced status")
    diagnostic = fields.Text(readonly=True)
    reporting_mta = fields.Char(string="Reporting server", readonly=True)
    remote_mta = fields.Char(string="Remote server", readonly=True)
    original_message_id = fields.Char(string="Original Message-ID", index=True, readonly=True)
    feedback_type = fields.Char(readonly=True, help="Feedback type of a complaint (ARF)")
    bounce_message_id = fields.Char(string="Bounce Message-ID", index=True, readonly=True)
    delivery_error_id = fields.Many2one("mail.delivery.error", readonly=True)
    category = fields.Selection(related="delivery_error_id.category", store=True)
    trace_id = fields.Many2one("mailing.trace", index="btree_not_null", readonly=True)
    mailing_id = fields.Many2one("mailing.mailing", index="btree_not_null", readonly=True)
    action_taken = fields.Char(
        string="Done to the address",
        readonly=True,
        help="What the suppression rules did to the address: blocked, soft bounce counted...",
    )
    source = fields.Selection(
        [("bounce", "Bounce message"), ("refusal", "Refused at sending")],
        required=True,
        default="bounce",
        readonly=True,
        help="A bounce message of the bounce mailbox, or the receiving server's refusal "
        "while the e-mail was being sent: both go through the same suppression rules.",
    )
    raw_attachment_id = fields.Many2one("ir.attachment", string="Original message", readonly=True)

    # ------------------------------------------------------------
    # COMPUTES
    # ------------------------------------------------------------

    @api.depends("kind", "recipient")
    def _compute_display_name(self):
        # "Hard bounce: sofia@example.com": not the address alone, which names its block
        kinds = dict(self._fields["kind"]._description_selection(self.env))
        for event in self:
            event.display_name = self.env._(
                "%(kind)s: %(recipient)s",
                kind=kinds.get(event.kind, ""),
                recipient=event.recipient or "",
            )

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

    @api.model
    def action_synchronize(self):
        """Fetch the incoming mail servers now and report what was handled."""
        last_id = self.sudo().search([], order="id desc", limit=1).id or 0
        servers = self.env["fetchmail.server"].sudo().search([("state", "=", "done")])
        servers.fetch_mail(raise_exception=False)
        counts = dict(self.sudo()._read_group([("id", ">", last_id)], ["kind"], ["__count"]))
        message = self.env._(
            "Mail servers fetched: %(servers)s. Handled: bounces %(bounces)s, complaints "
            "%(complaints)s, delays %(delays)s, other messages %(others)s.",
            servers=len(servers),
            bounces=counts.get("hard", 0) + counts.get("soft", 0),
            complaints=counts.get("complaint", 0),
            delays=counts.get("delayed", 0),
            others=sum(counts.values())
            - counts.get("hard", 0)
            - counts.get("soft", 0)
            - counts.get("complaint", 0)
            - counts.get("delayed", 0),
        )
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {"type": "info", "message": message, "sticky": False},
        }

    @api.model
    def _cron_synchronize(self):
        self.action_synchronize()

    # ------------------------------------------------------------
    # BUSINESS METHODS
    # ------------------------------------------------------------

    @api.model
    def _process_bounce_message(self, email_message, message_dict):
        """Parse one message of the bounce mailbox and apply each recipient's outcome.

        :param email_message: the ``email.message.EmailMessage`` received
        :param message_dict: the gateway's parsed values (``message_parse``)
        :return: the ``mail.bounce.event`` records created, one per recipient
        """
        addressed_to = ",".join(
            str(value)
            for name in ("To", "Delivered-To", "X-Original-To")
            for value in email_message.get_all(name) or []
        )
        message_dict = dict(message_dict, mmd_verp_trace=self._find_verp_trace(addressed_to))
        matcher = self.env["mail.delivery.error"]._get_matcher()
        results = bounce_parser.parse_bounce(
            message_dict.get("mmd_bytes") or email_message, matcher=matcher
        )
        done = self._already_processed(message_dict.get("message_id"))
        todo = []
        for result in results:
            recipient = email_normalize(result.recipient or "") or (result.recipient or "")
            if recipient in done:
                # the same message fetched twice (two workers, a re-delivery): once only
                _logger.info(
                    "Bounce mailbox: %r for %r already processed",
                    message_dict.get("message_id"),
                    recipient,
                )
                continue
            done.add(recipient)
            todo.append(result)
        return self._create_from_results(todo, email_message, message_dict)

    @api.model
    def _already_processed(self, bounce_message_id):
        """Recipients already logged for the message ``bounce_message_id``."""
        if not bounce_message_id:
            return set()
        events = self.search_fetch([("bounce_message_id", "=", bounce_message_id)], ["recipient"])
        return {event.recipient or "" for event in events}

    @api.model
    def _process_unparsable_message(self, raw, error):
        """Process a message of the bounce mailbox that core's gateway could not parse:
        read by the addon's parser alone, each recipient's outcome applied, the original
        bytes kept on the events.

        :param raw: the message as received (bytes)
        :param error: what core's parser raised
        :return: the ``mail.bounce.event`` records created
        """
        email_message = BytesParser(policy=policy.compat32).parsebytes(raw)
        message_dict = {
            "message_id": str(email_message.get("Message-Id") or ""),
            "email_from": str(email_message.get("From") or ""),
            "to": str(email_message.get("To") or ""),
            "bounced_msg_ids": [],
            "mmd_raw": raw,
            "mmd_parse_error": repr(error),
        }
        return self._process_bounce_message(email_message, message_dict)

    @api.model
    def _create_from_results(self, results, email_message, message_dict):
        """Log and apply the recipients' outcomes of one message of the bounce mailbox
        together: their traces read in one query, their events created in one, then
        applied as one batch (``_apply_events``).

        :param results: the ``tools.bounce.BounceResult`` to log (already deduplicated)
        :return: the ``mail.bounce.event`` records created
        """
        if not results:
            return self.browse()
        recipients = [
            email_normalize(result.recipient or "") or (result.recipient or "")
            for result in results
        ]
        traces = self._find_traces(
            [
                {"recipient": recipient, "original_message_id": result.original_message_id}
                for result, recipient in zip(results, recipients, strict=True)
            ],
            message_dict,
        )
        vals_list = []
        for result, parsed_recipient, trace in zip(results, recipients, traces, strict=True):
            recipient = parsed_recipient
            if not recipient and trace:
                # redacted complaints (RFC 6590) name nobody: the trace they answer does
                recipient = email_normalize(trace.email or "") or ""
            vals_list.append(
                {
                    "kind": result.kind,
                    "recipient": recipient,
                    "state": "matched" if trace else "unmatched",
                    "smtp_code": result.smtp_code or 0,
                    "status": result.status or False,
                    "diagnostic": result.diagnostic or False,
                    "reporting_mta": result.reporting_mta or False,
                    "remote_mta": result.remote_mta or False,
                    "original_message_id": result.original_message_id or False,
                    "feedback_type": result.feedback_type or False,
                    "bounce_message_id": message_dict.get("message_id") or False,
                    "delivery_error_id": self._registry_entry(result, recipient).id,
                    "trace_id": trace.id,
                    "mailing_id": trace.mass_mailing_id.id,
                }
            )
        events = self.create(vals_list)
        for event, result in zip(events, results, strict=True):
            if not event.trace_id or result.kind == "unknown" or message_dict.get("mmd_raw"):
                event._keep_raw_message(
                    email_message, message_dict.get("mmd_raw") or message_dict.get("mmd_bytes")
                )
                _logger.info(
                    "Bounce mailbox: %s for %r kept for inspection (trace found: %s)",
                    result.kind,
                    event.recipient,
                    bool(event.trace_id),
                )
        events._apply_events(dict.fromkeys(events.ids, message_dict))
        return events

    @api.model
    def _create_from_refusal(self, recipient, reply, *, message_id=None, trace=None):
        """Apply an SMTP refusal met while sending (``550 5.1.1`` at RCPT...) as the same
        reply arriving as a bounce would be: same registry entry, same hard or soft
        verdict (``tools/bounce.failure_kind``), same block and evidence, same soft-bounce
        counter. Refusals that say nothing about the address (the server busy or
        limiting, its connection lost: no reply code) are not events.

        The e-mail's own failure (state, reason, trace) is already recorded: core's bounce
        handling is not run again for it.

        :param recipient: the refused address
        :param reply: the server's reply on one line (``550 5.1.1 <x@y>: User unknown``)
        :param message_id: the Message-ID of the refused e-mail
        :param trace: the ``mailing.trace`` of the refused e-mail (mass mailings)
        :return: the ``mail.bounce.event`` created (empty when the refusal is not one)
        """
        recipient = email_normalize(recipient or "")
        code, status, diagnostic = delivery_errors.parse_smtp_reply(reply or "")
        if not recipient or not code:
            return self.browse()
        entry, result = self.env["mail.delivery.error"]._classify(
            diagnostic, smtp_code=code, status=status, recipient=recipient
        )
        category = entry.category or result.category
        if category in NOT_ADDRESS_CATEGORIES:
            return self.browse()
        permanence = entry.permanence or result.permanence
        trace = trace or self.env["mailing.trace"]
        event = self.create(
            {
                "kind": bounce_parser.failure_kind(category, permanence, status, code),
                "source": "refusal",
                "recipient": recipient,
                "state": "matched",
                "smtp_code": code,
                "status": status or False,
                "diagnostic": diagnostic or False,
                "original_message_id": message_id or False,
                "delivery_error_id": entry.id,
                "trace_id": trace.id,
                "mailing_id": trace.mass_mailing_id.id,
            }
        )
        rules = self.env["res.config.settings"]._get_delivery_rules()
        plan = event._prepare_plan(rules)
        handler = event._apply_hard_bounce if event.kind == "hard" else event._apply_soft_bounce
        event.action_taken = handler(rules, {}, plan)
        event._execute_plan(plan)
        return event

    @api.model
    def _registry_entry(self, result, recipient):
        """The registry entry of ``result``: complaints and automatic replies are
        what they are whatever their text says; failures are matched on their text."""
        Error = self.env["mail.delivery.error"]
        if result.kind in ("complaint", "auto_reply"):
            return Error.browse(Error._get_category_entry_id(result.kind))
        entry, _classification = Error._classify(
            result.diagnostic or "",
            smtp_code=result.smtp_code,
            status=result.status,
            recipient=recipient,
        )
        return entry

    @api.model
    def _find_verp_trace(self, addresses):
        """The trace named by a VERP bounce address among ``addresses`` (a header value),
        checked against the database secret and the bounce aliases; empty when none."""
        Trace = self.env["mailing.trace"].sudo()
        if "+" + verp.TAG not in (addresses or "").lower():
            return Trace
        secret = self.env["ir.config_parameter"].sudo().get_param("database.secret")
        aliases = (
            self.env["mail.alias.domain"]
            .sudo()
            .search([("bounce_alias", "!=", False)])
            .mapped("bounce_email")
        )
        for address in email_split(addresses):
            trace_id = verp.decode(address, secret, bounce_addresses=aliases)
            if trace_id:
                return Trace.browse(trace_id).exists()
        return Trace

    def _keep_raw_message(self, email_message, raw=None):
        """Attach the whole original message to the event, whatever its encoding.

        :param email_message: the parsed message
        :param raw: the bytes as received, when known (kept as they are)
        """
        self.ensure_one()
        if raw is None:
            try:
                raw = email_message.as_bytes(policy=policy.compat32)
            except (UnicodeError, LookupError, ValueError, TypeError, IndexError):
                raw = email_message.as_string(policy=policy.compat32).encode(
                    "utf-8", "surrogateescape"
                )
        self.raw_attachment_id = (
            self.env["ir.attachment"]
            .sudo()
            .create(
                {
                    "name": f"bounce-{self.id}.eml",
                    "raw": raw,
                    "mimetype": "message/rfc822",
                    "res_model": self._name,
                    "res_id": self.id,
                }
            )
        )

    def _apply_events(self, message_dicts):
        """Apply the events of ``self`` together (the recipients of one message of the
        bounce mailbox, the events of one webhook POST): core's bounce records and the
        traces (``_apply_core_bounces``), the soft-bounce counters in one statement, at
        most one block per address (its chatter note once), then the outcome tags and
        what was done, written once for the batch. A proof of delivery resets the
        soft-bounce streak after the batch's soft bounces are counted.

        :param message_dicts: ``{event id: values of the message it came in}``
        """
        rules = self.env["res.config.settings"]._get_delivery_rules()
        # the outcome tags of the traces bounced here are applied once, at the end
        events = self.with_context(mmd_outcome_tags_later=True)
        plan = events._prepare_plan(rules)
        events._apply_core_bounces(message_dicts, plan)
        actions = [event._apply(rules, message_dicts.get(event.id) or {}, plan) for event in events]
        events._execute_plan(plan)
        for event, action in zip(events, actions, strict=True):
            event.action_taken = action
            if event.trace_id:
                event.trace_id.address_action = action
        self.env["mailing.trace"].browse(plan["traces"])._apply_outcome_tags()

    def _prepare_plan(self, rules):
        """What the batch ``self`` will do beyond each event: the soft bounces counted
        (one statement), the blocks and streak resets to make.

        :return: ``{"counts": {event id: consecutive soft bounces}, "blocks": [(address,
            event, reason)], "resets": [addresses], "traces": [trace ids bounced]}``
        """
        soft = self.filtered(lambda e: e.kind == "soft" and e.recipient)
        increments = [
            (
                event.recipient,
                f"mailing:{event.mailing_id.id}"
                if event.mailing_id
                else f"message:{event.original_message_id or event.id}",
            )
            for event in soft
        ]
        counts = self.env["mail.bounce.counter"]._increment_many(
            increments, rules["soft_window_days"]
        )
        return {
            "counts": dict(zip(soft.ids, counts, strict=True)),
            "blocks": [],
            "resets": [],
            "traces": [],
        }

    def _execute_plan(self, plan):
        """Make the blocks (one per address) and the streak resets of ``plan``."""
        requests = bounce_batch.first_per_address(plan["blocks"])
        if requests:
            self.env["mail.blacklist"].sudo()._add_from_delivery_events(
                [(event, reason) for _address, event, reason in requests]
            )
        self.env["mail.bounce.counter"]._reset(plan["resets"])

    def _apply(self, rules, message_dict, plan):
        """Apply the event (its share of the batch ``plan``): trace, suppression rules.

        :return: a short description of what was done (shown in the log)
        """
        self.ensure_one()
        handler = {
            "hard": self._apply_hard_bounce,
            "soft": self._apply_soft_bounce,
            "complaint": self._apply_complaint,
            "delivered": self._apply_delivered,
            "unknown": self._apply_unknown,
        }.get(self.kind, self._apply_not_a_bounce)
        return handler(rules, message_dict, plan)

    def _apply_not_a_bounce(self, rules, message_dict, plan):
        return self.env._("Logged only: not a bounce.")

    def _apply_delivered(self, rules, message_dict, plan):
        plan["resets"].append(self.recipient)
        return self.env._("Delivery confirmed: soft-bounce streak reset.")

    def _apply_complaint(self, rules, message_dict, plan):
        if self.trace_id:
            self.trace_id.is_complaint = True
        if rules["block_complaint"] and self.recipient:
            self._block("complaint", plan)
            return self.env._("Blocked: spam complaint.")
        return self.env._("Complaint recorded.")

    def _apply_unknown(self, rules, message_dict, plan):
        if "bounced_email" not in message_dict and message_dict.get("mmd_bytes"):
            # read by the addon alone (``mail.thread._mmd_read_bounce_alias_message``):
            # core's bounce values, read as core reads them, for core's bounce handling
            email_message = message_from_bytes(message_dict["mmd_bytes"], policy=policy.SMTP)
            message_dict.update(
                self.env["mail.thread"]._message_parse_extract_bounce(email_message, message_dict)
            )
        if message_dict.get("bounced_email"):
            self.env["mail.thread"]._routing_handle_bounce_core(message_dict)
        return self.env._("Kept for inspection: the message could not be read.")

    def _apply_hard_bounce(self, rules, message_dict, plan):
        if rules["block_hard"] and self.recipient:
            if self._is_invalid_address():
                self._block("invalid", plan)
                return self.env._("Blocked: invalid address.")
            self._block("hard_bounce", plan)
            return self.env._("Blocked: hard bounce.")
        return self.env._("Hard bounce recorded.")

    def _is_invalid_address(self):
        """Whether this hard bounce says the address cannot exist (its domain does not
        exist or receives no mail, or its syntax is wrong), rather than that its mailbox
        is gone."""
        self.ensure_one()
        if self.delivery_error_id.category in INVALID_ADDRESS_CATEGORIES:
            return True
        parts = (self.status or "").split(".")
        return len(parts) == 3 and ".".join(parts[1:]) in INVALID_ADDRESS_STATUSES

    def _apply_soft_bounce(self, rules, message_dict, plan):
        count = plan["counts"].get(self.id, 0)
        limit = rules["soft_limit"]
        if limit and count >= limit:
            self._block("soft_bounce_limit", plan)
            return self.env._(
                "Blocked: soft-bounce limit reached (%(count)s of %(limit)s in a row).",
                count=count,
                limit=limit,
            )
        return self.env._("Soft bounce %(count)s of %(limit)s.", count=count, limit=limit or "-")

    @api.model
    def _reclassify_failures(self, limit=50000, entries=None):
        """Classify again the failure events (hard, soft, delayed) no entry explains yet
        and, after ``entries`` were saved, those these entries may explain better, as
        their bounce was classified: on its diagnostic, reply code and status.

        :param limit: at most this many events (the most recent first)
        :param entries: the ``mail.delivery.error`` entries just saved (or None)
        :return: number of events linked to a new entry
        """
        Error = self.env["mail.delivery.error"].sudo()
        entries = entries or Error
        events = self.sudo().search(
            expression.AND(
                [
                    [("kind", "in", (*BOUNCE_KINDS, "delayed"))],
                    entries._get_reclassify_domain(["diagnostic"], status_field="status"),
                ]
            ),
            order="id desc",
            limit=limit,
        )
        groups = defaultdict(list)
        for event in events:
            domain = (event.recipient or "").rpartition("@")[2].lower()
            groups[(event.diagnostic or "", event.smtp_code, event.status, domain)].append(event)
        linked = 0
        for (diagnostic, code, status, domain), group in groups.items():
            entry, _result = Error._classify(
                diagnostic, smtp_code=code, status=status, recipient=f"x@{domain}" if domain else ""
            )
            changed = self.browse(Error._get_relinked_ids(group, entry, saved=entries))
            changed.write({"delivery_error_id": entry.id})
            linked += len(changed) if entry else 0
        return linked

    def _block(self, reason, plan):
        """Block the recipient with ``reason`` when the batch ``plan`` is executed, this
        event being the evidence (the first event of the batch for the address)."""
        self.ensure_one()
        plan["blocks"].append((self.recipient, self, reason))
