from collections import defaultdict

from odoo import Command
from odoo import api
from odoo import fields
from odoo import models
from odoo.tools import SQL
from odoo.tools import email_normalize

from ...tools import mailing_figures

#: Outcome -> name of the mailing's tag field.

OUTCOME_TAG_FIELDS = {
    "sent": "outcome_tag_sent_id",
    "opened": "outcome_tag_opened_id",
    "clicked": "outcome_tag_clicked_id",
    "unsubscribed": "outcome_tag_unsubscribed_id",
    "bounced": "outcome_tag_bounced_id",
    "failed": "outcome_tag_failed_id",
}

#: Recipient model -> its tag field (Many2many to res.partner.category).
RECIPIENT_TAG_FIELDS = {
    "res.partner": "category_id",
    "mailing.contact": "tag_ids",
}


class MailingMailing(models.Model):
    """Campaign outcomes written back on the recipients as contact tags.

    Each outcome (sent, opened, clicked, unsubscribed, bounced, failed) can have
    a tag (``res.partner.category``, the tags of both contacts and mailing
    contacts). The tag lands on the recipient when its trace reaches that
    outcome; :meth:`action_apply_outcome_tags` applies them once to the past
    traces, :meth:`action_remove_outcome_tags` takes them off again in bulk.
    Recipients of other models are tagged through their ``partner_id``.
    """

    _name = "mailing.mailing"
    _inherit = ["mailing.mailing", "mail.throttle.mixin"]

    outcome_tag_sent_id = fields.Many2one(
        "res.partner.category",
        string="Tag when delivered",
        help="Tag the recipients whose e-mail the mail server accepted.",
    )
    outcome_tag_opened_id = fields.Many2one(
        "res.partner.category",
        string="Tag when opened",
        help="Tag the recipients who opened the e-mail (or clicked or replied).",
    )
    outcome_tag_clicked_id = fields.Many2one(
        "res.partner.category",
        string="Tag when clicked",
        help="Tag the recipients who clicked at least one link.",
    )
    outcome_tag_unsubscribed_id = fields.Many2one(
        "res.partner.category",
        string="Tag when unsubscribed",
        help="Tag the recipients who unsubscribed from this mailing.",
    )
    outcome_tag_bounced_id = fields.Many2one(
        "res.partner.category",
        string="Tag when bounced",
        help="Tag the recipients whose e-mail bounced.",
    )
    outcome_tag_failed_id = fields.Many2one(
        "res.partner.category",
        string="Tag when failed",
        help="Tag the recipients whose e-mail could not be sent.",
    )
    has_outcome_tags = fields.Boolean(compute="_compute_has_outcome_tags")

    # ------------------------------------------------------------
    # COMPUTES
    # ------------------------------------------------------------

    def _compute_has_outcome_tags(self):
        # read on every trace update while sending, after each commit emptied the cache:
        # fetch the tag columns only, not the whole mailing (its bodies)
        self.fetch(list(OUTCOME_TAG_FIELDS.values()))
        for mailing in self:
            mailing.has_outcome_tags = any(mailing[fname] for fname in OUTCOME_TAG_FIELDS.values())

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

    def action_apply_outcome_tags(self):
        """Apply the outcome tags to the recipients of the traces already recorded."""
        for mailing in self:
            mailing._apply_outcome_tags(mailing.sudo().mailing_trace_ids)
            mailing._apply_past_unsubscribed_tag()
        return self._notify_outcome_tags(self.env._("Outcome tags applied to past recipients."))

    def action_remove_outcome_tags(self):
        """Remove this mailing's outcome tags from all of its recipients."""
        for mailing in self:
            tags = mailing._get_outcome_tags()
            if not tags:
                continue
            for records in mailing._get_outcome_recipients(mailing.sudo().mailing_trace_ids):
                fname = RECIPIENT_TAG_FIELDS[records._name]
                records.write({fname: [Command.unlink(tag.id) for tag in tags]})
        return self._notify_outcome_tags(self.env._("Outcome tags removed from the recipients."))

    def _notify_outcome_tags(self, message):
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "message": message,
                "type": "success",
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    # ------------------------------------------------------------
    # BUSINESS METHODS
    # ------------------------------------------------------------

    def _get_outcome_tags(self):
        self.ensure_one()
        return self.env["res.partner.category"].union(
            *(self[fname] for fname in OUTCOME_TAG_FIELDS.values())
        )

    def _apply_outcome_tags(self, traces, outcomes=None):
        """Tag the recipients of ``traces`` (of this mailing) with the tags of
        the outcomes they reached.

        :param traces: ``mailing.trace`` records of this mailing
        :param outcomes: restrict to these outcomes (default: every outcome the
            traces show; "unsubscribed" is never derived from a trace)
        """
        self.ensure_one()
        for outcome, outcome_traces in traces._get_outcomes().items():
            if outcomes is not None and outcome not in outcomes:
                continue
            tag = self[OUTCOME_TAG_FIELDS[outcome]]
            if not tag:
                continue
            for records in self._get_outcome_recipients(outcome_traces):
                fname = RECIPIENT_TAG_FIELDS[records._name]
                records.filtered(lambda r, tag=tag, fname=fname: tag not in r[fname]).write(
                    {fname: [Command.link(tag.id)]}
                )

    def _apply_unsubscribed_tag(self, email):
        """Tag the recipients of this mailing that used ``email`` as unsubscribed.

        :param email: the address that unsubscribed (as in the unsubscribe link)
        """
        self.ensure_one()
        tag = self.sudo().outcome_tag_unsubscribed_id
        normalized = email_normalize(email or "")
        if not tag or not normalized:
            return
        traces = (
            self.env["mailing.trace"]
            .sudo()
            .search([("mass_mailing_id", "=", self.id), ("email", "=", normalized)])
        )
        for records in self._get_outcome_recipients(traces):
            fname = RECIPIENT_TAG_FIELDS[records._name]
            records.write({fname: [Command.link(tag.id)]})

    def _apply_past_unsubscribed_tag(self):
        """Tag as unsubscribed the recipients who left after this mailing was sent:
        their address was blocked, or they opted out of one of its mailing lists,
        after the sending. Bounced, failed and complained-about recipients are not
        unsubscribers (bounce processing blocks them itself)."""
        self.ensure_one()
        mailing = self.sudo()
        if not mailing.outcome_tag_unsubscribed_id or not mailing.sent_date:
            return
        traces = mailing.mailing_trace_ids.filtered(
            lambda t: (
                t.email
                and not t.is_complaint
                and t.trace_status in ("pending", "sent", "open", "reply")
            )
        )
        if not traces:
            return
        emails = list(set(traces.mapped("email")))
        left = set(
            self.env["mail.blacklist"]
            .sudo()
            .search([("email", "in", emails), ("write_date", ">=", mailing.sent_date)])
            .mapped("email")
        )
        if mailing.contact_list_ids:
            left |= set(
                self.env["mailing.subscription"]
                .sudo()
                .search(
                    [
                        ("list_id", "in", mailing.contact_list_ids.ids),
                        ("opt_out", "=", True),
                        ("opt_out_datetime", ">=", mailing.sent_date),
                        ("contact_id.email_normalized", "in", emails),
                    ]
                )
                .mapped("contact_id.email_normalized")
            )
        tag = mailing.outcome_tag_unsubscribed_id
        for records in self._get_outcome_recipients(traces.filtered(lambda t: t.email in left)):
            fname = RECIPIENT_TAG_FIELDS[records._name]
            records.write({fname: [Command.link(tag.id)]})

    def _get_outcome_recipients(self, traces):
        """The taggable records behind ``traces``, as one recordset per model.

        :param traces: ``mailing.trace`` records
        :return: list of ``res.partner`` / ``mailing.contact`` recordsets (sudo)
        """
        ids_per_model = defaultdict(set)
        for trace in traces.sudo():
            if trace.model and trace.res_id:
                ids_per_model[trace.model].add(trace.res_id)
        result = []
        partners = self.env["res.partner"].sudo()
        for model, res_ids in ids_per_model.items():
            if model not in self.env:
                continue
            records = self.env[model].sudo().browse(res_ids).exists()
            if model in RECIPIENT_TAG_FIELDS:
                result.append(records)
            elif (
                "partner_id" in records._fields
                and records._fields["partner_id"].comodel_name == "res.partner"
            ):
                partners |= records.partner_id
        if partners:
            result.append(partners)
        return result

    # ------------------------------------------------------------
    # LIVE SUMMARY
    # ------------------------------------------------------------

    def get_live_summary(self):
        """Figures of the live summary box, as every screen counts them
        (:meth:`_get_figures`, ``tools/mailing_figures.py``).

        Opens and clicks count recipients (a trace is one recipient): a recipient
        who clicked three times counts once.

        :return: dict with the counters (total, to_send, sent, delivered,
            opened, clicked, replied, ignored, not_sent, bounced), ``rates`` (percent),
            ``rate_bases`` (figure -> the figure its rate is a share of),
            ``eta_seconds`` (None when the sending is not throttled), ``state`` and
            ``links`` (per URL: requests, unique recipients)
        """
        self.ensure_one()
        self.check_access("read")
        mailing = self.sudo()
        summary = self._get_figures()[self.id]
        summary["rates"] = mailing_figures.rates(summary)
        summary["rate_bases"] = dict(mailing_figures.RATE_BASES)
        interval = mailing._get_send_interval()
        summary["eta_seconds"] = (
            round(summary["to_send"] * interval) if interval and summary["to_send"] else None
        )
        summary["state"] = mailing.state
        summary["links"] = mailing._get_link_summary()
        return summary

    def _get_figures(self):
        """The counters of these mailings, read from their traces in one query: the one
        definition of every figure the screens show (``tools/mailing_figures.py``).

        :return: dict mailing id -> dict figure -> count (every mailing of ``self``)
        """
        ids = [mailing_id for mailing_id in self._origin.ids if mailing_id]
        result = {mailing.id: mailing_figures.figures_from_groups(()) for mailing in self}
        if not ids:
            return result
        self.env["mailing.trace"].flush_model(
            [
                "mass_mailing_id",
                "trace_status",
                "failure_type",
                "sent_datetime",
                "links_click_datetime",
                "is_complaint",
            ]
        )
        self.env.cr.execute(
            SQL(
                """
                SELECT mass_mailing_id, trace_status, failure_type, COUNT(*),
                       COUNT(sent_datetime), COUNT(links_click_datetime),
                       COUNT(*) FILTER (WHERE is_complaint)
                  FROM mailing_trace
                 WHERE mass_mailing_id = ANY(%s)
              GROUP BY mass_mailing_id, trace_status, failure_type
                """,
                ids,
            )
        )
        groups = defaultdict(list)
        for mailing_id, *group in self.env.cr.fetchall():
            groups[mailing_id].append(group)
        for mailing in self:
            result[mailing.id] = mailing_figures.figures_from_groups(groups[mailing._origin.id])
        return result

    def _get_link_summary(self):
        """Per tracked URL of this mailing: requests and unique recipients.

        :return: list of dicts (link_id, url, label, requests, recipients), most
            requested first
        """
        self.ensure_one()
        self.env["link.tracker.click"].flush_model(
            ["link_id", "mass_mailing_id", "mailing_trace_id"]
        )
        self.env["link.tracker"].flush_model(["url", "label", "mass_mailing_id"])
        self.env.cr.execute(
            SQL(
                """
                SELECT link.id, link.url, link.label,
                       COUNT(click.id), COUNT(DISTINCT click.mailing_trace_id)
                  FROM link_tracker link
                  JOIN link_tracker_click click ON click.link_id = link.id
                 WHERE click.mass_mailing_id = %s
              GROUP BY link.id, link.url, link.label
              ORDER BY COUNT(click.id) DESC, link.id
                """,
                self.id,
            )
        )
        return [
            {
                "link_id": link_id,
                "url": url,
                "label": label or "",
                "requests": requests,
                "recipients": recipients,
            }
            for link_id, url, label, requests, recipients in self.env.cr.fetchall()
        ]

    def action_view_link_clicks(self, link_id):
        """Open the clicks of this mailing on one tracked link.

        :param link_id: ``link.tracker`` id
        """
        self.ensure_one()
        try:
            link_id = int(link_id)
        except (TypeError, ValueError):
            return False
        link = self.env["link.tracker"].browse(link_id).exists()
        if not link:
            return False
        return {
            "type": "ir.actions.act_window",
            "name": self.env._(
                "Clicks on %(url)s: %(mailing)s",
                url=link.label or link.url,
                mailing=self.subject or self.name,
            ),
            "res_model": "link.tracker.click",
            "views": [(False, "list"), (False, "form")],
            "view_mode": "list,form",
            "domain": [("mass_mailing_id", "=", self.id), ("link_id", "=", link.id)],
            "context": {"create": False},
        }

    def action_view_summary_traces(self, figure):
        """Open the recipients behind one figure of the live summary (and of every
        screen counting them: :func:`~..tools.mailing_figures.trace_domain`).

        :param figure: a counter key of :meth:`get_live_summary`
        """
        self.ensure_one()
        domain = self._get_summary_trace_domain(figure)
        if domain is None:
            return False
        labels = self._get_figure_labels()
        action = self.action_view_delivery_results()
        action.update(
            name=self.env._(
                "%(figure)s: %(mailing)s",
                figure=labels.get(figure, figure),
                mailing=self.subject or self.name,
            ),
            domain=[("mass_mailing_id", "=", self.id), *domain],
        )
        return action

    @api.model
    def _get_summary_trace_domain(self, figure):
        return mailing_figures.trace_domain(figure)

    @api.model
    def _get_ignored_trace_sql(self, alias):
        """SQL condition on the ``mailing_trace`` row ``alias``: a recipient ignored before
        any attempt, as every screen counts them (an invalid or missing address core
        marks as an error was never sent: ignored, not a failure)."""
        return SQL(
            "(%(status)s = 'cancel' OR (%(status)s = 'error' AND %(ftype)s IN %(types)s))",
            status=SQL.identifier(alias, "trace_status"),
            ftype=SQL.identifier(alias, "failure_type"),
            types=mailing_figures.IGNORED_FAILURE_TYPES,
        )

    @api.model
    def _get_figure_labels(self):
        """Figure key -> its label on the screens."""
        return {
            "total": self.env._("Recipients"),
            "targeted": self.env._("Recipients mailed"),
            "to_send": self.env._("To send"),
            "sent": self.env._("Sent"),
            "delivered": self.env._("Delivered"),
            "opened": self.env._("Opened"),
            "clicked": self.env._("Clicked"),
            "replied": self.env._("Replied"),
            "ignored": self.env._("Ignored"),
            "not_sent": self.env._("Not sent"),
            "bounced": self.env._("Bounced"),
            "complaints": self.env._("Complaints"),
        }

    # ------------------------------------------------------------
    # THROTTLE
    # ------------------------------------------------------------

    def _get_own_send_interval(self):
        """Seconds between two e-mails set on this mailing (0.0: no limit)."""
        self.ensure_one()
        return self._get_throttle_interval()

    def _get_send_interval(self):
        """Seconds between two e-mails of this mailing, counting the throttle of
        the outgoing mail server it uses (0.0: no limit)."""
        self.ensure_one()
        server = self.sudo().mail_server_id or self.env["ir.mail_server"].sudo().search(
            [], order="sequence, id", limit=1
        )
        server_interval = server._get_throttle_interval() if server else 0.0
        return max(self._get_own_send_interval(), server_interval)
