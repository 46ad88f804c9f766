from odoo import api
from odoo import fields
from odoo import models
from odoo.tools import SQL

from ..tools import bounce_batch


class MailBounceCounter(models.Model):
    """Soft-bounce counter of one e-mail address, for the suppression rule
    "block after N consecutive mailings bounced soft within D days".

    One row per normalized address. The counter counts distinct mailings (or
    documents) in a row: several soft bounces for the same mailing count once.
    It restarts when the first soft bounce of the streak is older than the
    window, and is reset by a proof of delivery (a reply, an open, a click, a
    "delivered" DSN). It is updated by one SQL statement so that several Odoo
    workers processing bounces at once never lose or double an increment.
    """

    _name = "mail.bounce.counter"
    _description = "Soft Bounce Counter"
    _rec_name = "email"

    email = fields.Char(required=True, index=True, readonly=True)
    soft_count = fields.Integer(string="Consecutive soft bounces", readonly=True)
    streak_start = fields.Datetime(string="First soft bounce of the streak", readonly=True)
    last_source = fields.Char(
        string="Last bounced mailing", readonly=True, help="mailing:<id> or message:<id>"
    )

    _sql_constraints = [
        ("email_unique", "UNIQUE(email)", "One soft-bounce counter per e-mail address."),
    ]

    @api.model
    def _increment(self, email, source, window_days):
        """Count one soft bounce of ``email`` caused by ``source``, atomically.

        :param email: normalized e-mail address
        :param source: what was sent ("mailing:12", "message:345"); a second
            bounce from the same source does not count again
        :param window_days: a streak older than this restarts at 1
        :return: the number of consecutive soft-bounced sources after this one
        """
        return self._increment_many([(email, source)], window_days)[0]

    @api.model
    def _increment_many(self, increments, window_days):
        """Count the soft bounces ``[(email, source)]`` of a batch, atomically, in one
        statement (one more for each repetition of an address in the batch).

        :param increments: ``[(normalized e-mail, source)]`` in the order they came
        :param window_days: a streak older than this restarts at 1
        :return: the counts after each increment, in the order of ``increments``
        """
        counts = [0] * len(increments)
        if not increments:
            return counts
        self.flush_model()
        for round_ in bounce_batch.counter_rounds(increments):
            rows = SQL(", ").join(
                SQL(
                    "(%s, 1, now() at time zone 'UTC', %s, %s, %s,"
                    " now() at time zone 'UTC', now() at time zone 'UTC')",
                    email,
                    source,
                    self.env.uid,
                    self.env.uid,
                )
                for _index, email, source in round_
            )
            self.env.cr.execute(
                SQL(
                    """
            INSERT INTO mail_bounce_counter
                (email, soft_count, streak_start, last_source,
                 create_uid, write_uid, create_date, write_date)
            VALUES %(rows)s
            ON CONFLICT (email) DO UPDATE SET
                soft_count = CASE
                    WHEN mail_bounce_counter.soft_count = 0
                      OR mail_bounce_counter.streak_start
                         < (now() at time zone 'UTC') - make_interval(days => %(days)s)
                    THEN 1
                    WHEN mail_bounce_counter.last_source = EXCLUDED.last_source
                    THEN mail_bounce_counter.soft_count
                    ELSE mail_bounce_counter.soft_count + 1
                END,
                streak_start = CASE
                    WHEN mail_bounce_counter.soft_count = 0
                      OR mail_bounce_counter.streak_start
                         < (now() at time zone 'UTC') - make_interval(days => %(days)s)
                    THEN now() at time zone 'UTC'
                    ELSE mail_bounce_counter.streak_start
                END,
                last_source = EXCLUDED.last_source,
                write_uid = EXCLUDED.write_uid,
                write_date = EXCLUDED.write_date
            RETURNING email, soft_count
            """,
                    rows=rows,
                    days=int(window_days),
                )
            )
            returned = dict(self.env.cr.fetchall())
            for index, email, _source in round_:
                counts[index] = returned[email]
        self.invalidate_model()
        return counts

    @api.model
    def _reset(self, emails):
        """Reset the streak of ``emails`` (normalized) after a proof of delivery."""
        emails = [email for email in emails if email]
        if not emails:
            return
        self.flush_model()
        self.env.cr.execute(
            SQL(
                "UPDATE mail_bounce_counter SET soft_count = 0, last_source = NULL,"
                " write_date = now() at time zone 'UTC'"
                " WHERE email IN %(emails)s AND soft_count > 0",
                emails=tuple(emails),
            )
        )
        self.invalidate_model()
