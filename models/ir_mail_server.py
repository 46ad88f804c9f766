from odoo import api
from odoo import fields
from odoo import models


class ThrottleMixin(models.AbstractModel):
    """Throttle settings: a maximum rate and/or a minimum delay between two e-mails.

    The stricter of the two wins; both at 0 mean no limit (core's speed).
    """

    _name = "mail.throttle.mixin"
    _description = "Send throttle settings"

    throttle_rate = fields.Integer(
        string="Max e-mails per minute",
        default=0,
        help="Send at most this many e-mails per minute (0: no limit).",
    )
    throttle_delay = fields.Float(
        string="Delay between e-mails (s)",
        default=0.0,
        help="Wait at least this many seconds between two e-mails (0: no delay).",
    )

    _sql_constraints = [
        ("throttle_rate_positive", "CHECK(throttle_rate >= 0)", "The rate cannot be negative."),
        ("throttle_delay_positive", "CHECK(throttle_delay >= 0)", "The delay cannot be negative."),
    ]

    @api.model
    def _throttle_interval(self, rate, delay):
        """Seconds between two e-mails for ``rate`` per minute and ``delay`` seconds."""
        return max(60.0 / rate if rate and rate > 0 else 0.0, delay or 0.0)

    def _get_throttle_interval(self):
        """Seconds to wait between two e-mails of this record (0.0: no limit)."""
        self.ensure_one()
        return self._throttle_interval(self.throttle_rate, self.throttle_delay)


class IrMailServer(models.Model):
    """Outgoing mail servers get a send throttle, honoured by the mail queue
    across workers (see ``mail.send.slot``)."""

    _name = "ir.mail_server"
    _inherit = ["ir.mail_server", "mail.throttle.mixin"]
