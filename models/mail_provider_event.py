import json
import logging
import threading
import time
from collections import defaultdict
from dataclasses import asdict

import psycopg2
from psycopg2 import errors as pg_errors

from odoo import api
from odoo import fields
from odoo import models
from odoo.service.model import PG_CONCURRENCY_EXCEPTIONS_TO_RETRY
from odoo.tools import SQL

from ..tools.providers import PROVIDER_SELECTION
from ..tools.providers import ProviderEvent

_logger = logging.getLogger(__name__)

#: events applied together, as one batch of the bounce pipeline
BATCH_SIZE = 500
#: seconds a run of the scheduled action goes on taking batches before handing over
RUN_SECONDS = 30
#: seconds a run waits for more events once none is left (the rest of a burst)
LINGER_SECONDS = 1.0
#: seconds during which a post's trigger also serves the next posts (< LINGER_SECONDS)
TRIGGER_SHARE_SECONDS = 0.5
#: how often a lingering run looks for new events
LINGER_POLL_SECONDS = 0.1
#: attempts a concurrent transaction may spoil before the event waits for a user
MAX_ATTEMPTS = 5
#: what a concurrent transaction makes applying raise: tried again at the next run
CONCURRENCY_ERRORS = (*PG_CONCURRENCY_EXCEPTIONS_TO_RETRY, pg_errors.UniqueViolation)
#: what an event that cannot be applied raises: a stored payload of the wrong shape
#: (``ProviderEvent(**payload)``) or a value PostgreSQL refuses (too long for an index)
EVENT_ERRORS = (
    TypeError,
    ValueError,
    KeyError,
    psycopg2.DataError,
    psycopg2.errors.ProgramLimitExceeded,
)


class MailProviderEvent(models.Model):
    """An event a sending service's webhook (or the mail server log reader) posted,
    checked and waiting to be applied.

    The webhook checks the request (signature, age, replay) and keeps each of its events
    here, in one insert, then answers at once: a provider that posts one event per
    request (Mailgun, Amazon SES, Postmark, Brevo) is not kept waiting for the bounce
    pipeline, and the events are applied by a scheduled action, triggered by the post,
    in batches of up to ``BATCH_SIZE`` (``mail.bounce.event._process_provider_events``):
    the cost of matching, blocking and counting is shared by the events of many posts.

    A row exists while its event waits; it is removed when the event is applied (the
    bounce log then holds it). An event that cannot be applied stays, ``Failed``, with
    the error, until a user applies it again; nothing is lost. The same event posted
    twice is refused (409) whether it waits here or was applied already.
    """

    _name = "mail.provider.event"
    _description = "Sending service event waiting to be applied"
    _order = "id"
    _rec_name = "event_key"

    mail_server_id = fields.Many2one(
        "ir.mail_server", string="Outgoing mail server", readonly=True, ondelete="set null"
    )
    provider = fields.Selection(
        PROVIDER_SELECTION, string="Sending service", readonly=True, required=True
    )
    event_key = fields.Char(
        string="Event",
        readonly=True,
        required=True,
        help="The sending service and its own id of the event.",
    )
    recipient = fields.Char(readonly=True)
    kind = fields.Char(
        readonly=True, help="What the event reports, as read: hard, soft, delayed, complaint..."
    )
    dedup_key = fields.Char(readonly=True, required=True)
    payload = fields.Text(readonly=True, help="The event as read from the post (JSON).")
    state = fields.Selection(
        [("queued", "Waiting"), ("failed", "Failed")],
        default="queued",
        required=True,
        readonly=True,
        index=True,
    )
    attempts = fields.Integer(readonly=True)
    error = fields.Char(readonly=True, help="What made the last attempt fail.")

    _sql_constraints = [
        ("dedup_key_unique", "UNIQUE(dedup_key)", "This event was received already."),
    ]

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

    def action_apply_again(self):
        """Apply the selected events now (also those that failed)."""
        rows = self.sudo()
        rows.write({"state": "queued"})
        rows._apply()
        left = rows.exists()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "warning" if left else "info",
                "message": self.env._(
                    "Events applied: %(done)s. Failed again: %(failed)s.",
                    done=len(rows) - len(left),
                    failed=len(left),
                ),
                # the list again: an event applied is no longer there to show
                "next": self.env["ir.actions.act_window"]._for_xml_id(
                    "mass_mailing_delivery.mail_provider_event_action"
                ),
            },
        }

    # ------------------------------------------------------------
    # RECEIVING
    # ------------------------------------------------------------

    @api.model
    def _enqueue(self, server, provider_events):
        """Keep the new events of one post, to be applied soon.

        :param server: the ``ir.mail_server`` whose webhook received them
        :param provider_events: list of ``tools.providers.ProviderEvent``, checked
        :return: ``(number of events kept, number already received or applied)``
        """
        todo, duplicates = (
            self.env["mail.bounce.event"].sudo()._split_new_provider_events(provider_events)
        )
        kept = self._insert_waiting(server, todo)
        if kept:
            self._trigger_apply()
        return kept, duplicates + len(todo) - kept

    @api.model
    def _insert_waiting(self, server, todo):
        """Insert the events of ``todo`` (``[(ProviderEvent, key, recipient)]``) but
        those already waiting, in one statement.

        One ``INSERT ... ON CONFLICT DO NOTHING`` rather than the ORM's ``create``: this
        runs for every post of a burst, where the ORM would add a savepoint to catch
        the replay of a waiting event and read the user's company for default values
        (a third of a post's time, measured with ``bench/bench_provider_events.py``).
        The model has no computed, related or translated field to keep up to date.

        :return: number of events inserted
        """
        if not todo:
            return 0
        self.flush_model()
        now = self.env.cr.now()
        uid = self.env.uid
        rows = [
            SQL(
                "(%s, %s, %s, %s, %s, %s, %s, 'queued', 0, %s, %s, %s, %s)",
                server.id or None,
                event.provider,
                key,
                recipient or None,
                event.kind,
                f"{key}|{recipient}",
                json.dumps(asdict(event), default=str),
                uid,
                now,
                uid,
                now,
            )
            for event, key, recipient in todo
        ]
        self.env.cr.execute(
            SQL(
                """
                INSERT INTO mail_provider_event
                       (mail_server_id, provider, event_key, recipient, kind, dedup_key,
                        payload, state, attempts, create_uid, create_date, write_uid,
                        write_date)
                VALUES %s
                    ON CONFLICT (dedup_key) DO NOTHING
                RETURNING id
                """,
                SQL(", ").join(rows),
            )
        )
        return len(self.env.cr.fetchall())

    @api.model
    def _trigger_apply(self):
        """Have the scheduled action run soon, as core's ``ir.cron._trigger`` does,
        unless another post asked for it less than ``TRIGGER_SHARE_SECONDS`` ago: a
        trigger wakes the cron workers through a new connection to PostgreSQL, too
        dear for each post of a burst. The run that trigger starts takes this post's
        events: it lingers ``LINGER_SECONDS`` (longer) for the rest of the burst
        (``_cron_apply``). Only a recent trigger counts: an older one may belong to a
        run that is ending, or to a server stopped before it ran."""
        cron_id = self.env["ir.model.data"]._xmlid_to_res_id(
            "mass_mailing_delivery.ir_cron_provider_events"
        )
        self.env.cr.execute(
            SQL(
                """
                SELECT 1 FROM ir_cron_trigger
                 WHERE cron_id = %s
                   AND create_date >= (now() AT TIME ZONE 'UTC') - %s * interval '1 second'
                 LIMIT 1
                """,
                cron_id,
                TRIGGER_SHARE_SECONDS,
            )
        )
        if not self.env.cr.fetchone():
            self.env["ir.cron"].sudo().browse(cron_id)._trigger()

    # ------------------------------------------------------------
    # APPLYING
    # ------------------------------------------------------------

    @api.model
    def _cron_apply(self, batch_size=BATCH_SIZE, seconds=RUN_SECONDS):
        """Apply the waiting events, oldest first, one batch per transaction, for about
        ``seconds`` (the scheduled action runs again at once when some are left).

        When nothing waits, the run lingers ``LINGER_SECONDS`` for the next posts of a
        burst before it ends: a post that finds the trigger of another post younger
        than ``TRIGGER_SHARE_SECONDS`` asks for no run of its own (``_trigger_apply``),
        so the run that trigger started takes its events.
        """
        # a commit per batch, except in testing mode (as core's e-mail queue)
        auto_commit = not getattr(threading.current_thread(), "testing", False)
        start = last = time.monotonic()
        done = 0
        while time.monotonic() - start < seconds:
            applied = self._apply_waiting(batch_size)
            if applied:
                done += applied
                last = time.monotonic()
                remaining = self.sudo().search_count([("state", "=", "queued")])
                self.env["ir.cron"]._notify_progress(done=done, remaining=remaining)
            elif not auto_commit or time.monotonic() - last > LINGER_SECONDS:
                break
            else:
                time.sleep(LINGER_POLL_SECONDS)
            if auto_commit:
                # also a new snapshot: the events posted meanwhile become visible
                self.env.cr.commit()  # pylint: disable=invalid-commit
        return done

    @api.model
    def _apply_waiting(self, limit=BATCH_SIZE):
        """Apply up to ``limit`` waiting events, oldest first, leaving those another
        run holds (two runs never apply the same event).

        :return: number of events taken (applied, failed or left for the next run)
        """
        self.flush_model(["state"])
        self.env.cr.execute(
            SQL(
                """
                SELECT id FROM mail_provider_event
                 WHERE state = 'queued'
                 ORDER BY id
                 LIMIT %s
                   FOR UPDATE SKIP LOCKED
                """,
                limit,
            )
        )
        rows = self.sudo().browse([row[0] for row in self.env.cr.fetchall()])
        rows._apply()
        return len(rows)

    def _apply(self):
        """Apply the events of ``self`` as one batch per mail server; when a batch
        fails, its events one by one, so that one bad event does not hold the others."""
        groups = defaultdict(self.browse)
        for row in self:
            groups[row.mail_server_id] |= row
        applied = self.browse()
        for rows in groups.values():
            applied |= rows._apply_batch()
        applied.unlink()

    def _apply_batch(self):
        """Apply ``self`` (events of one server) in a savepoint.

        :return: the rows applied (to remove)
        """
        server = self.mail_server_id[:1]
        try:
            with self.env.cr.savepoint():
                events = [row._provider_event() for row in self]
                self.env["mail.bounce.event"].sudo()._process_provider_events(server, events)
            return self
        except (*CONCURRENCY_ERRORS, *EVENT_ERRORS) as error:
            if len(self) > 1:
                applied = self.browse()
                for row in self:
                    applied |= row._apply_batch()
                return applied
            self._record_failure(error)
            return self.browse()

    def _provider_event(self):
        self.ensure_one()
        return ProviderEvent(**json.loads(self.payload or "{}"))

    def _record_failure(self, error):
        """Count a failed attempt on the event of ``self``: tried again at the next run
        after a concurrent transaction (up to ``MAX_ATTEMPTS``), kept ``Failed``
        otherwise."""
        self.ensure_one()
        attempts = self.attempts + 1
        again = isinstance(error, CONCURRENCY_ERRORS) and attempts < MAX_ATTEMPTS
        self.write(
            {
                "attempts": attempts,
                "state": "queued" if again else "failed",
                "error": f"{type(error).__name__}: {error}"[:500],
            }
        )
        _logger.warning(
            "%s event %s could not be applied (%s)%s",
            self.provider,
            self.event_key,
            self.error,
            ": it will be tried again" if again else ": kept, marked failed",
        )
