from collections import defaultdict

from odoo import models

#: trace_status -> outcomes it proves (a reply implies an open, an open a delivery).
STATUS_OUTCOMES = {
    "pending": ("sent",),
    "sent": ("sent",),
    "open": ("sent", "opened"),
    "reply": ("sent", "opened"),
    "bounce": ("bounced",),
    "error": ("failed",),
}


class MailingTrace(models.Model):
    """Applies the mailing's outcome tags on the recipient as soon as a trace
    records an outcome (delivered, opened, clicked, bounced, failed)."""

    _inherit = "mailing.trace"

    def write(self, vals):
        res = super().write(vals)
        # the bounce processing applies them once for its batch (``mail.bounce.event``)
        if (
            "trace_status" in vals or vals.get("links_click_datetime")
        ) and not self.env.context.get("mmd_outcome_tags_later"):
            self._apply_outcome_tags()
        return res

    def _get_outcomes(self):
        """Group ``self`` by the outcomes the traces reached.

        :return: dict outcome -> ``mailing.trace`` records
        """
        outcomes = defaultdict(self.browse)
        for trace in self:
            for outcome in STATUS_OUTCOMES.get(trace.trace_status, ()):
                outcomes[outcome] |= trace
            if trace.links_click_datetime:
                outcomes["clicked"] |= trace
                outcomes["opened"] |= trace
                outcomes["sent"] |= trace
        return outcomes

    def _apply_outcome_tags(self):
        """Tag the recipients of ``self`` per the tags of their mailing (no-op
        for the mailings without outcome tags)."""
        traces = self.sudo()
        # a claimed batch of the mail queue reads each mailing's tags once (core commits
        # after each e-mail, which empties the ORM cache)
        known = (
            self.env.cr.cache.setdefault("mmd_outcome_tag_mailings", {})
            if self.env.context.get("mmd_claimed")
            else {}
        )
        for mailing in traces.mass_mailing_id:
            if mailing.id not in known:
                known[mailing.id] = mailing.has_outcome_tags
            if known[mailing.id]:
                mailing._apply_outcome_tags(
                    traces.filtered(lambda t, m=mailing: t.mass_mailing_id == m)
                )
