import logging
import threading
import time
from datetime import timedelta

from odoo import api
from odoo import fields
from odoo import models
from odoo.exceptions import AccessError
from odoo.tools import SQL

_logger = logging.getLogger(__name__)


class MailSentLog(models.Model):
    """Clean-up of the log: deleting rows' records, and the retention policy."""

    _inherit = "mail.sent.log"

    # ------------------------------------------------------------
    # CLEAN-UP
    # ------------------------------------------------------------

    def action_delete(self):
        """Delete the selected rows' records (managers; the list asks to confirm).

        Mass mailing rows are kept: their traces are the mailing's statistics.
        """
        if not self.env.user.has_group("mass_mailing_delivery.group_delivery_manager"):
            raise AccessError(self.env._("Only delivery administrators can delete the log."))
        by_source = {}
        for row in self:
            by_source.setdefault(row.source, []).append(row.source_id)
        deleted = 0
        for source, model in (
            ("tracking", "mail.tracking.email"),
            ("notification", "mail.notification"),
            ("mail", "mail.mail"),
        ):
            records = self.env[model].sudo().browse(by_source.get(source, [])).exists()
            deleted += len(records)
            records.unlink()
        kept = len(by_source.get("trace", []))
        message = self.env._("E-mails deleted from the log: %(deleted)s.", deleted=deleted)
        if kept:
            message = self.env._(
                "%(message)s Mass mailing e-mails kept: %(kept)s (they are the mailings' "
                "statistics; deleting a mailing deletes them).",
                message=message,
                kept=kept,
            )
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": message,
                "sticky": False,
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    @api.model
    def _cron_retention(self):
        """Delete what is older than the retention setting, in bounded batches.

        Each batch is its own transaction when run by the scheduler (short locks,
        progress kept if the run is interrupted); the only commit of the addon.
        """
        auto_commit = not getattr(threading.current_thread(), "testing", False)
        settings = self.env["res.config.settings"]._get_log_settings()
        result = self._purge_older_than(
            settings["retention_days"],
            batch_size=settings["batch_size"],
            max_batches=settings["max_batches"],
            auto_commit=auto_commit,
        )
        if result["more"]:
            self.env.ref("mass_mailing_delivery.ir_cron_sent_log_retention")._trigger()
        return result

    @api.model
    def _purge_older_than(self, days, batch_size=10000, max_batches=20, auto_commit=False):
        """Delete the log's records older than ``days``: tracked e-mails with their
        events and links, bounce events that are no blocked address's evidence,
        failed and cancelled outgoing e-mails. Never the mass mailing traces (the
        mailings' statistics are computed from them).

        :param days: retention in days (0: delete nothing)
        :param batch_size: records deleted per batch
        :param max_batches: batches per call
        :param auto_commit: commit after each batch (scheduler only)
        :return: ``{"deleted": {model: count}, "more": bool, "longest_batch": seconds}``
        """
        deleted = {}
        longest = 0.0
        if not days:
            return {"deleted": deleted, "more": False, "longest_batch": longest}
        cutoff = fields.Datetime.now() - timedelta(days=days)
        batches = 0
        more = False
        for model, domain in self._get_purge_domains(cutoff):
            Model = self.env[model].sudo()
            while True:
                if batches >= max_batches:
                    more = True
                    break
                start = time.perf_counter()
                records = Model.search(domain, order="id", limit=batch_size)
                if not records:
                    break
                count = len(records)
                records.unlink()
                deleted[model] = deleted.get(model, 0) + count
                batches += 1
                if auto_commit:
                    self.env.cr.commit()  # pylint: disable=invalid-commit
                self.env.invalidate_all()
                longest = max(longest, time.perf_counter() - start)
                if count < batch_size:
                    break
            if more:
                break
        if deleted:
            _logger.info("Sent e-mails log retention (%s days): deleted %s", days, deleted)
        return {"deleted": deleted, "more": more, "longest_batch": longest}

    @api.model
    def _get_purge_domains(self, cutoff):
        blacklist_fields = self.env["mail.blacklist"]._fields
        evidence = SQL(
            """(SELECT ev.id FROM mail_bounce_event ev
                  JOIN mail_blacklist bl ON bl.email = ev.recipient%s)""",
            SQL(" OR bl.bounce_event_id = ev.id")
            if "bounce_event_id" in blacklist_fields
            else SQL(),
        )
        # the evidence of a blocked address is kept as long as the block
        event_domain = [("create_date", "<", cutoff), ("id", "not in", evidence)]
        return [
            ("mail.tracking.email", [("create_date", "<", cutoff)]),
            ("mail.bounce.event", event_domain),
            (
                "mail.mail",
                [("create_date", "<", cutoff), ("state", "in", ("exception", "cancel"))],
            ),
        ]
