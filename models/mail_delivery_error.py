from collections import defaultdict

from odoo import api
from odoo import fields
from odoo import models
from odoo import tools
from odoo.exceptions import ValidationError
from odoo.osv import expression
from odoo.tools import escape_psql

from ..tools import delivery_errors

CATEGORY_SELECTION = [
    ("recipient_unknown", "Recipient unknown"),
    ("domain_unknown", "Domain unknown"),
    ("mailbox_disabled", "Mailbox disabled"),
    ("mailbox_moved", "Mailbox moved"),
    ("mailbox_full", "Mailbox full"),
    ("message_too_large", "Message too large"),
    ("content_rejected", "Content rejected"),
    ("virus_detected", "Virus found"),
    ("sender_blocked", "Sender blocked"),
    ("sender_rejected", "Sender address refused"),
    ("policy_rejected", "Rejected by policy"),
    ("authentication", "Sender authentication"),
    ("rate_limited", "Rate limited"),
    ("expired", "Delivery expired"),
    ("network_error", "Network or DNS failure"),
    ("server_error", "Server or connection error"),
    ("complaint", "Spam complaint"),
    ("auto_reply", "Automatic reply"),
    ("unknown", "Unclassified"),
]

PERMANENCE_SELECTION = [
    ("permanent", "Permanent"),
    ("temporary", "Temporary"),
    ("none", "Not a failure"),
]


RULE_FIELDS = {
    "active",
    "smtp_code_min",
    "smtp_code_max",
    "status_pattern",
    "diagnostic_regex",
    "provider",
    "priority",
}

#: at most this many past failures of each model (the most recent) are re-examined when an
#: entry is saved: the cost of saving an entry stays bounded on a large database
RECLASSIFY_LIMIT = 50000


class MailDeliveryError(models.Model):
    """The delivery error registry: one entry per kind of delivery failure.

    Each entry explains in plain words what happened and what to do, and carries
    matching rules (SMTP reply code range, RFC 3463 enhanced status code or prefix,
    a regular expression on the diagnostic text, a provider). Failures are matched
    against the whole registry by the pure-Python matcher of
    ``tools/delivery_errors/``: the most specific matching entry wins, then the
    highest priority. The registry is seeded (``data/mail_delivery_error_data.xml``,
    ``noupdate``), translated, and extended by managers.
    """

    _name = "mail.delivery.error"
    _description = "Delivery Error"
    _order = "category, priority desc, name"

    name = fields.Char(required=True, translate=True)
    active = fields.Boolean(default=True)
    category = fields.Selection(CATEGORY_SELECTION, required=True, default="unknown", index=True)
    permanence = fields.Selection(PERMANENCE_SELECTION, required=True, default="permanent")
    explanation = fields.Text(
        string="What happened", required=True, translate=True, help="Plain-language explanation."
    )
    advice = fields.Text(
        string="What to do", required=True, translate=True, help="Concrete advice for the user."
    )
    smtp_code_min = fields.Integer(
        string="SMTP code from",
        aggregator=False,
        help="Lowest SMTP reply code matched (0: any code).",
    )
    smtp_code_max = fields.Integer(
        string="SMTP code to",
        aggregator=False,
        help="Highest SMTP reply code matched (0: same as 'from').",
    )
    status_pattern = fields.Char(
        string="Enhanced status code",
        help="RFC 3463 enhanced status code (5.1.1) or prefix (5.7.*, 4.*); empty: any.",
    )
    diagnostic_regex = fields.Char(
        string="Diagnostic pattern",
        help="Case-insensitive regular expression searched in the diagnostic text; empty: any.",
    )
    provider = fields.Char(
        help="Only for this mailbox provider (gmail, outlook, yahoo...); empty: any provider."
    )
    priority = fields.Integer(
        aggregator=False,
        default=10,
        help="Among entries matching equally precisely, the highest priority wins.",
    )
    trace_count = fields.Integer(string="Failures", compute="_compute_trace_count")

    # ------------------------------------------------------------
    # CONSTRAINTS
    # ------------------------------------------------------------

    @api.constrains("diagnostic_regex")
    def _check_diagnostic_regex(self):
        for entry in self.filtered("diagnostic_regex"):
            error = delivery_errors.validate_regex(entry.diagnostic_regex)
            if error:
                raise ValidationError(
                    self.env._(
                        "The diagnostic pattern of “%(name)s” is not a valid regular expression: %(error)s",
                        name=entry.name,
                        error=error,
                    )
                )

    @api.constrains("smtp_code_min", "smtp_code_max")
    def _check_smtp_codes(self):
        for entry in self:
            low, high = entry.smtp_code_min, entry.smtp_code_max
            if any(code and not 200 <= code <= 599 for code in (low, high)) or (
                low and high and high < low
            ):
                raise ValidationError(
                    self.env._(
                        "SMTP reply codes of “%(name)s” must lie between 200 and 599, lowest first.",
                        name=entry.name,
                    )
                )

    # ------------------------------------------------------------
    # COMPUTES
    # ------------------------------------------------------------

    def _compute_trace_count(self):
        counts = dict(
            self.env["mailing.trace"]._read_group(
                [("delivery_error_id", "in", self.ids)], ["delivery_error_id"], ["__count"]
            )
        )
        for entry in self:
            entry.trace_count = counts.get(entry, 0)

    # ------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        entries = super().create(vals_list)
        self.env.registry.clear_cache()
        if not self.env.context.get("install_mode"):
            entries._reclassify_matching_failures()
        return entries

    def write(self, vals):
        res = super().write(vals)
        self.env.registry.clear_cache()
        if RULE_FIELDS & set(vals):
            self._reclassify_matching_failures()
        return res

    def unlink(self):
        res = super().unlink()
        self.env.registry.clear_cache()
        return res

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

    def action_view_traces(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("mass_mailing.mailing_trace_action")
        action.update(
            domain=[("delivery_error_id", "=", self.id)],
            context={"create": False},
            display_name=self.env._("Failures: %(name)s", name=self.name),
        )
        return action

    def action_reclassify(self):
        """Classify again the past failures that no entry explains yet."""
        count = self.env["mailing.trace"]._reclassify_failures()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": self.env._("Past failures re-classified: %(count)s.", count=count),
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    # ------------------------------------------------------------
    # BUSINESS METHODS
    # ------------------------------------------------------------

    @tools.ormcache()
    def _get_matcher(self):
        """The compiled matcher of the active registry, cached until an entry changes."""
        rules = [
            delivery_errors.Rule(
                key=str(entry["id"]),
                category=entry["category"],
                permanence=entry["permanence"],
                smtp_code_min=entry["smtp_code_min"] or 0,
                smtp_code_max=entry["smtp_code_max"] or 0,
                status_pattern=entry["status_pattern"] or "",
                diagnostic_regex=entry["diagnostic_regex"] or "",
                provider=entry["provider"] or "",
                priority=entry["priority"] or 0,
            )
            for entry in self.sudo()
            .with_context(active_test=True)
            .search_read(
                [],
                [
                    "category",
                    "permanence",
                    "smtp_code_min",
                    "smtp_code_max",
                    "status_pattern",
                    "diagnostic_regex",
                    "provider",
                    "priority",
                ],
            )
        ]
        return delivery_errors.Matcher(rules)

    @tools.ormcache("category")
    def _get_category_entry_id(self, category):
        """The id of the first entry of ``category`` (the entry of every complaint, of
        every automatic reply), cached until an entry changes."""
        return (
            self.sudo()
            .with_context(active_test=True)
            .search([("category", "=", category)], order="priority desc", limit=1)
            .id
        )

    @api.model
    def _classify(self, diagnostic="", smtp_code=None, status=None, recipient=""):
        """Match one failure against the registry.

        :param diagnostic: the server's reply or the bounce's diagnostic text
        :param smtp_code: the SMTP reply code when known
        :param status: the RFC 3463 enhanced status code when known
        :param recipient: the recipient's address (its domain tells the provider)
        :return: ``(entry, classification)``: the matching ``mail.delivery.error``
            (empty when none matched) and the matcher's ``Classification``
        """
        result = self._get_matcher().classify(
            smtp_code=smtp_code, status=status, diagnostic=diagnostic or "", recipient=recipient
        )
        entry = self.browse(int(result.rule_key)) if result.rule_key else self.browse()
        return entry, result

    @api.model
    def _prepare_from_diagnostic_values(self, diagnostic, recipient=""):
        """Default values of a new entry built from an unmatched diagnostic text."""
        result = self._get_matcher().classify(diagnostic=diagnostic or "", recipient=recipient)
        return {
            "name": (result.diagnostic or self.env._("New delivery error"))[:80],
            "category": result.category,
            "permanence": result.permanence,
            "smtp_code_min": result.smtp_code or 0,
            "smtp_code_max": result.smtp_code or 0,
            "status_pattern": result.status or "",
            "diagnostic_regex": delivery_errors.regex_from_diagnostic(result.diagnostic),
            "provider": result.provider or "",
        }

    def _reclassify_matching_failures(self):
        """Classify again the past failures that the saved entries ``self`` may explain
        better than their current entry, and those no entry explains yet (see
        ``_get_reclassify_domain``); at most ``RECLASSIFY_LIMIT`` of each kind of failure.

        :return: number of failed traces linked to a new entry
        """
        self.env["mail.bounce.event"].sudo()._reclassify_failures(
            limit=RECLASSIFY_LIMIT, entries=self
        )
        return (
            self.env["mailing.trace"]
            .sudo()
            ._reclassify_failures(limit=RECLASSIFY_LIMIT, entries=self)
        )

    def _get_reclassify_domain(self, text_fields, status_field=None):
        """Domain of the failures to classify again after ``self`` was saved: the
        unclassified ones, those linked to ``self`` (their rules may have changed), and
        those linked to another entry whose text contains what every match of the rules
        of ``self`` must contain (a literal of the diagnostic pattern, else the enhanced
        status code prefix); every failure when a rule requires no text.

        :param text_fields: the fields holding the failure's diagnostic text
        :param status_field: the field holding its enhanced status code, if any
        """
        domain = [("delivery_error_id", "=", False)]
        if not self:
            return domain
        domain = expression.OR([domain, [("delivery_error_id", "in", self.ids)]])
        conditions = []
        for entry in self:
            literals = entry.diagnostic_regex and delivery_errors.required_literals(
                entry.diagnostic_regex
            )
            parsed = delivery_errors.parse_status_pattern(entry.status_pattern) or (0, "")
            if literals:
                needles = sorted(literals)
            elif parsed[0] >= 2:
                needles = [parsed[1]]
                if status_field:
                    conditions.append([(status_field, "=like", f"{escape_psql(parsed[1])}%")])
            else:
                return []  # any failure may match: every failure (within the limit)
            conditions += [
                [(fname, "ilike", escape_psql(needle))]
                for fname in text_fields
                for needle in needles
            ]
        return expression.OR([domain, *conditions])

    @api.model
    def _get_relinked_ids(self, records, entry, saved=None):
        """The ids of ``records`` (one classification group) to link to ``entry``, per
        the rules of :meth:`_link_failures`.

        :param records: records with a ``delivery_error_id`` field, classified ``entry``
        :param entry: their best match (``mail.delivery.error``, possibly empty)
        :param saved: the entries just saved, or None (a failure being recorded)
        :return: list of ids
        """
        if saved is None:
            return [record.id for record in records if entry]
        return [
            record.id
            for record in records
            if record.delivery_error_id != entry
            and (
                not record.delivery_error_id or entry in saved or record.delivery_error_id in saved
            )
        ]

    @api.model
    def _link_failures(self, records, diagnostic_of, recipient_of, saved=None):
        """Link failed ``records`` (traces, mails...) to their registry entry.

        Records sharing a diagnostic and a recipient domain are classified once. Without
        ``saved`` (a failure being recorded), each record gets the best match. With
        ``saved`` (re-classification after entries were saved), a record without entry
        gets the best match, a record linked to another entry moves to one of ``saved``
        only when it is the best match now, and a record linked to one of ``saved`` moves
        to the best match (none when nothing matches any more).

        :param records: recordset with a ``delivery_error_id`` field
        :param diagnostic_of: function record -> diagnostic text
        :param recipient_of: function record -> recipient address
        :param saved: the ``mail.delivery.error`` entries just saved, or None
        :return: number of records linked to a new entry
        """
        groups = defaultdict(list)
        for record in records:
            domain = (recipient_of(record) or "").strip().rpartition("@")[2].lower()
            groups[(diagnostic_of(record) or "", domain)].append(record)
        linked = 0
        for (diagnostic, domain), group in groups.items():
            entry, _result = self._classify(diagnostic, recipient=f"x@{domain}" if domain else "")
            changed = self._get_relinked_ids(group, entry, saved)
            if changed:
                records.browse(changed).write({"delivery_error_id": entry.id})
                linked += len(changed) if entry else 0
        return linked
