import base64
import logging

from odoo import api
from odoo import fields
from odoo import models

_logger = logging.getLogger(__name__)

#: attempts after which a deferred message is no longer processed again (kept, logged)
MAX_ATTEMPTS = 5


class MailBounceDeferred(models.Model):
    """A message of the bounce mailbox whose processing failed because of a concurrent
    transaction (serialization failure, deadlock, lock timeout, unique violation): an
    Odoo worker processing another bounce of the same address at the same moment, or
    an open resetting its soft-bounce streak.

    Core's ``fetchmail.server.fetch_mail`` flags an IMAP message as seen (and a POP one
    stays, to fail the same way) whatever its processing did: without this, the bounce
    would be lost, its soft-bounce count or block missing. The message is kept here and
    processed again by a cron, soon after; processing is idempotent (a recipient already
    logged for the message is skipped). States: a row exists while the message waits;
    it is removed when processed (or kept, logged, after ``MAX_ATTEMPTS`` attempts).
    """

    _name = "mail.bounce.deferred"
    _description = "Bounce message to process again"
    _order = "id"

    message_id = fields.Char(string="Message-ID", readonly=True)
    raw = fields.Binary(string="Message", attachment=True, readonly=True)
    error = fields.Char(readonly=True, help="What made the last attempt fail.")
    attempts = fields.Integer(default=1, readonly=True)

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

    def action_process_again(self):
        """Process the selected messages now (also those past the last attempt)."""
        count = self.sudo()._process_again()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "info",
                "message": self.env._("Bounce messages processed again: %(count)s.", count=count),
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    # ------------------------------------------------------------
    # BUSINESS METHODS
    # ------------------------------------------------------------

    @api.model
    def _defer(self, raw, message_id, error):
        """Keep ``raw`` to process it again soon.

        :param raw: the message as received (bytes)
        :param message_id: its Message-ID ('' when it has none)
        :param error: the ``psycopg2.Error`` that made its processing fail
        :return: the ``mail.bounce.deferred`` record
        """
        attempts = self.env.context.get("mmd_bounce_attempts", 1)
        record = self.sudo().create(
            {
                "message_id": message_id or False,
                "raw": base64.b64encode(raw),
                "error": f"{error.pgcode or ''} {type(error).__name__}".strip(),
                "attempts": attempts,
            }
        )
        if attempts > MAX_ATTEMPTS:
            _logger.warning(
                "Bounce mailbox: %r failed %s times (%s): kept, no longer processed again",
                message_id,
                attempts - 1,
                record.error,
            )
        else:
            self.env.ref("mass_mailing_delivery.ir_cron_bounce_deferred").sudo()._trigger()
        return record

    @api.model
    def _cron_process(self, limit=200):
        """Process the deferred messages again, oldest first.

        :param limit: at most this many messages per run
        :return: number of messages processed (whatever their outcome)
        """
        records = self.sudo().search([("attempts", "<=", MAX_ATTEMPTS)], limit=limit)
        return records._process_again()

    def _process_again(self):
        """Feed the messages of ``self`` to the mail gateway again.

        :return: number of messages processed (whatever their outcome)
        """
        for record in self:
            raw, attempts = base64.b64decode(record.raw or b""), record.attempts
            record.unlink()
            # a new failure defers it again, one attempt more
            self.env["mail.thread"].sudo().with_context(
                mmd_bounce_attempts=attempts + 1
            ).message_process(False, raw)
        return len(self)
