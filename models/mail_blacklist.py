from odoo import api
from odoo import models


class MailBlacklist(models.Model):
    _inherit = "mail.blacklist"

    @api.model
    def _add_from_delivery_event(self, event, reason):
        """Block ``event.recipient`` because of a bounce or complaint event.

        :param event: ``mail.bounce.event`` that is the evidence
        :param reason: block reason code (hard_bounce, soft_bounce_limit, complaint)
        :return: the ``mail.blacklist`` record
        """
        evidence = " ".join(
            part for part in (event.status, event.diagnostic or event.feedback_type) if part
        )
        return self._add(
            event.recipient,
            message=self.env._(
                "Blocked by bounce processing (%(reason)s): %(evidence)s",
                reason=reason,
                evidence=evidence,
            ),
        )
