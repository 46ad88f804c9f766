import time
from datetime import datetime

from odoo import api
from odoo import fields
from odoo import models
from odoo.tools import SQL


class MailSendSlot(models.Model):
    """The next moment a throttled sender (a mail server or a mailing) may send.

    One row per sender key (``server:<id>``, ``mailing:<id>``). A worker that
    wants to send reserves the next slot of each key in one short transaction
    of its own: the row is locked by the upsert, so two workers (threads,
    processes or machines) never get the same slot, and the reservation is
    committed at once so the others see it. Times are PostgreSQL's clock
    (epoch seconds), shared by every worker.
    """

    _name = "mail.send.slot"
    _description = "Throttled send slot"
    _log_access = False

    key = fields.Char(required=True, readonly=True)
    next_send_at = fields.Float(string="Next send (epoch s)", readonly=True, digits=(16, 6))

    _sql_constraints = [("key_unique", "UNIQUE(key)", "One slot per sender.")]

    @api.model
    def _db_now(self, cr=None):
        """PostgreSQL's wall clock, in epoch seconds."""
        cr = cr or self.env.cr
        cr.execute(SQL("SELECT EXTRACT(EPOCH FROM clock_timestamp())::float8"))
        return cr.fetchone()[0]

    @api.model
    def _reserve(self, intervals, deadline):
        """Reserve the next send slot of every key of ``intervals``.

        Runs in its own READ COMMITTED transaction, committed at once (the
        reservation must be visible to the other workers before this one
        sends); the rows are locked only for the few statements of that
        transaction. Either every key gets the slot or none does.

        :param intervals: dict key -> seconds between two e-mails of that key
        :param deadline: epoch seconds; do not reserve a slot starting later
        :return: ``(slot_start, db_now)`` in epoch seconds, or ``(None, next)``
            when the next slot starts after ``deadline`` (``next``: when it does)
        """
        with self.env.registry.cursor() as cr:
            if not self.env.registry.in_test_mode():
                # the upsert must see the slot another worker just committed (under
                # Odoo's REPEATABLE READ it would fail with a serialization error)
                cr.execute(SQL("SET TRANSACTION ISOLATION LEVEL READ COMMITTED"))
            not_before = 0.0
            for key in sorted(intervals):
                interval = intervals[key]
                cr.execute(
                    SQL(
                        """
                        WITH now AS (SELECT GREATEST(EXTRACT(EPOCH FROM clock_timestamp())::float8,
                                                     %(not_before)s) AS t)
                        INSERT INTO mail_send_slot AS slot (key, next_send_at)
                             SELECT %(key)s, now.t + %(interval)s FROM now
                        ON CONFLICT (key) DO UPDATE
                               SET next_send_at = GREATEST(slot.next_send_at,
                                                           EXCLUDED.next_send_at - %(interval)s)
                                                  + %(interval)s
                             WHERE GREATEST(slot.next_send_at, EXCLUDED.next_send_at - %(interval)s)
                                   <= %(deadline)s
                        RETURNING slot.next_send_at - %(interval)s
                        """,
                        key=key,
                        interval=interval,
                        not_before=not_before,
                        deadline=deadline,
                    )
                )
                row = cr.fetchone()
                if not row:
                    cr.rollback()
                    cr.execute(
                        SQL(
                            "SELECT MAX(next_send_at) FROM mail_send_slot WHERE key IN %s",
                            tuple(intervals),
                        )
                    )
                    return None, cr.fetchone()[0]
                not_before = max(not_before, row[0])
            now = self._db_now(cr)
            # leaving the block commits the reservation
        return not_before, now

    @api.model
    def _wait_for_slot(self, intervals, deadline):
        """Reserve a slot (see :meth:`_reserve`) and sleep until it starts.

        :return: True when the caller may send now, False when the slot would
            start after ``deadline`` (nothing reserved)
        """
        start, now = self._reserve(intervals, deadline)
        if start is None:
            return False
        if start > now:
            time.sleep(start - now)
        return True

    @api.model
    def _next_send_datetime(self, keys):
        """When the latest of the slots of ``keys`` opens (naive UTC datetime)."""
        self.env.cr.execute(
            SQL("SELECT MAX(next_send_at) FROM mail_send_slot WHERE key IN %s", tuple(keys))
        )
        next_at = self.env.cr.fetchone()[0]
        return datetime.utcfromtimestamp(next_at) if next_at else None
