import logging
import smtplib
import threading

import psycopg2

from odoo import api
from odoo import fields
from odoo import models
from odoo.tools import SQL

_logger = logging.getLogger(__name__)

#: e-mails a sender claims at once (``mass_mailing_delivery.send_claim_size``)
DEFAULT_CLAIM_SIZE = 100
#: the smallest batch a sender claims when several share the queue
MIN_SHARED_CLAIM_SIZE = 10
#: seconds a claim holds its e-mails for a sender that is alive but stuck
#: (``mass_mailing_delivery.send_claim_lease_seconds``): a longer sending frees them
DEFAULT_CLAIM_LEASE_SECONDS = 900
#: the code of the scheduled actions of the parallel senders (see ``_mmd_sync_sender_crons``)
SENDER_CRON_CODE = "model._mmd_cron_send_queue()"
#: ``cr.cache`` keys of what a claimed batch checks or does once, after its last e-mail
BATCH_CACHE_KEYS = (
    "mmd_mailings_to_check",
    "mmd_outcome_tag_mailings",
    "mmd_sent_to_delete",
    "mmd_archive_servers",
)


class MailMail(models.Model):
    """Claim, then send: the mail queue run by one sender or several at once.

    A sender (the mail queue's scheduled action, or one of the *Parallel senders*
    scheduled actions, in any cron thread of any Odoo server on the database) claims a
    batch of queued e-mails in one statement: ``UPDATE ... WHERE id IN (SELECT ... FOR
    UPDATE SKIP LOCKED LIMIT n)``, committed. The claim names the sender's database
    session and a lease; another sender skips the claimed e-mails, so each is sent by
    one sender, without a lock written per e-mail. The sender then sends the batch
    (core's ``send``, its own SMTP connection, each outcome committed as core does) and
    releases the batch's claims. A claim whose session ended (the worker died: its
    process, machine or connection) or whose lease expired (a worker stuck) is claimable
    again: the e-mails it had not sent go back to the queue, those it had sent were
    committed as sent.

    What core re-reads after each e-mail (the mailing's failure rate, its outcome tags)
    is checked once per batch, and the sent e-mails core deletes one by one
    (``auto_delete``: the e-mail and its message) are deleted together at the end of
    the batch. Each e-mail's outcome is still committed after it, as core does: a worker
    that dies mid-batch leaves at most its batch's sent e-mails undeleted (state
    *Sent*), never one sent twice. Core's own run is kept when the caller passes a
    ``filters`` context (its own selection of the queue).
    """

    _inherit = "mail.mail"

    mmd_claim_pid = fields.Integer(
        "Claimed by session",
        readonly=True,
        copy=False,
        help="PostgreSQL session of the sender that claimed this e-mail (see the mail queue).",
    )
    mmd_claim_until = fields.Datetime(
        "Claimed until",
        readonly=True,
        copy=False,
        help="End of the lease of the sender that claimed this e-mail.",
    )

    # ------------------------------------------------------------
    # THE QUEUE
    # ------------------------------------------------------------

    @api.model
    def process_email_queue(self, ids=None, batch_size=1000):
        if "filters" in self.env.context:
            return super().process_email_queue(ids=ids, batch_size=batch_size)
        return self._mmd_process_claimed_queue(ids=ids, batch_size=batch_size)

    @api.model
    def _mmd_cron_send_queue(self):
        """The scheduled action of a parallel sender: a run of the mail queue (which
        leaves waking the other senders to the mail queue's own scheduled action)."""
        return self.with_context(mmd_parallel_sender=True).process_email_queue()

    @api.model
    def _mmd_process_claimed_queue(self, ids=None, batch_size=1000):
        """Claim and send batches of the queue until ``batch_size`` e-mails were taken
        (core's ``mail.mail.queue.batch.size``) or nothing is left to claim.

        :param ids: restrict to these ``mail.mail`` ids (as core's ``ids``)
        :param batch_size: e-mails taken at most by this run
        :return: True
        """
        # auto-commit except in testing mode (as core)
        auto_commit = not getattr(threading.current_thread(), "testing", False)
        params = self.env["ir.config_parameter"].sudo()
        batch_size = int(params.get_param("mail.mail.queue.batch.size", batch_size))
        claim_size = self._mmd_get_int_param("send_claim_size", DEFAULT_CLAIM_SIZE)
        if ids is None and not self.env.context.get("mmd_parallel_sender"):
            self._mmd_wake_parallel_senders(claim_size)
        senders = self._mmd_get_int_param("parallel_senders", 1)
        if ids is None or ids:
            self._mmd_delete_orphaned_sent(ids, auto_commit)
        done = 0
        while done < batch_size:
            size = min(claim_size, batch_size - done)
            if senders > 1:
                # the senders share the end of the queue rather than one sending it alone
                share = -(-self._mmd_count_claimable(ids) // (2 * senders))
                size = min(size, max(share, MIN_SHARED_CLAIM_SIZE))
            claimed = self._mmd_claim_batch(size, ids, auto_commit)
            if not claimed:
                break
            done += len(claimed)
            try:
                claimed._mmd_send_claimed(auto_commit)
            except (psycopg2.Error, smtplib.SMTPServerDisconnected):
                # as core: the cursor or the session may be unusable; the claims end with
                # the lease, or at once with the session if the worker goes down
                _logger.exception("Failed processing mail queue")
                self.env.cr.rollback()
                break
            left = claimed._mmd_release_claims(auto_commit)
            if left:
                # the batch stopped (the throttle's wait budget, an unreachable server):
                # what is left waits for the next run, which the stop triggered
                break
        if ids is None and done:
            self.env["ir.cron"]._notify_progress(
                done=done, remaining=self._mmd_count_claimable(ids)
            )
        return True

    @api.model
    def _mmd_get_int_param(self, key, default):
        value = self.env["ir.config_parameter"].sudo().get_param(f"mass_mailing_delivery.{key}")
        try:
            return max(int(value), 1) if value else default
        except ValueError:
            return default

    def _mmd_claimable_condition(self, ids=None):
        """SQL condition on ``mail`` (a ``mail_mail`` row): queued, due and not claimed
        by a live sender."""
        return SQL(
            """mail.state = 'outgoing'
               AND (mail.scheduled_date IS NULL
                    OR mail.scheduled_date <= (now() AT TIME ZONE 'UTC'))
               AND (mail.mmd_claim_pid IS NULL OR %s)
               AND %s""",
            self._mmd_claim_ended_condition(),
            SQL("mail.id IN %s", tuple(ids)) if ids else SQL("TRUE"),
        )

    def _mmd_claim_ended_condition(self):
        """SQL condition on ``mail``: its claim ended (lease expired, or the session of
        the sender that claimed it is gone)."""
        return SQL(
            """(mail.mmd_claim_until < (now() AT TIME ZONE 'UTC')
                OR NOT EXISTS (SELECT 1 FROM pg_stat_activity activity
                                WHERE activity.pid = mail.mmd_claim_pid))"""
        )

    @api.model
    def _mmd_begin_own_transaction(self, auto_commit):
        """With ``auto_commit``, commit what was done and begin a READ COMMITTED
        transaction: the other senders skip the rows it locks and see its changes once
        committed (under Odoo's REPEATABLE READ, a row another sender changed since this
        transaction began would fail to serialize)."""
        self.env.flush_all()
        if auto_commit:
            self.env.cr.commit()  # pylint: disable=invalid-commit
            self.env.cr.execute(SQL("SET TRANSACTION ISOLATION LEVEL READ COMMITTED"))

    @api.model
    def _mmd_delete_orphaned_sent(self, ids=None, auto_commit=True):
        """Delete the sent e-mails a sender's batch left when the sender ended before
        the batch did (its worker died): sent, to be deleted, still claimed by it. With
        ``auto_commit``, in a READ COMMITTED transaction of its own (two senders may
        sweep at once: each deletes what the other has not locked)."""
        cr = self.env.cr
        self._mmd_begin_own_transaction(auto_commit)
        cr.execute(
            SQL(
                """SELECT mail.id FROM mail_mail mail
                    WHERE mail.state = 'sent' AND mail.auto_delete
                      AND mail.mmd_claim_pid IS NOT NULL AND %s AND %s
                      FOR UPDATE SKIP LOCKED""",
                self._mmd_claim_ended_condition(),
                SQL("mail.id IN %s", tuple(ids)) if ids else SQL("TRUE"),
            )
        )
        orphan_ids = [row[0] for row in cr.fetchall()]
        if orphan_ids:
            self.sudo().browse(orphan_ids).unlink()
            self.env.flush_all()
        if auto_commit:
            cr.commit()  # pylint: disable=invalid-commit

    @api.model
    def _mmd_claim_batch(self, limit, ids=None, auto_commit=True):
        """Claim up to ``limit`` queued e-mails for this sender, oldest first.

        With ``auto_commit`` the claim is its own READ COMMITTED transaction, committed
        at once: the other senders skip the rows it locks and see the claim afterwards
        (under Odoo's REPEATABLE READ, a row another sender claimed since this
        transaction began would fail to serialize).

        :param limit: e-mails to claim at most
        :param ids: restrict to these ``mail.mail`` ids
        :param auto_commit: commit before and after the claim (a sender in a cron)
        :return: the claimed ``mail.mail``, in id order
        """
        if ids is not None and not ids:
            return self.browse()
        cr = self.env.cr
        self._mmd_begin_own_transaction(auto_commit)
        lease = self._mmd_get_int_param("send_claim_lease_seconds", DEFAULT_CLAIM_LEASE_SECONDS)
        cr.execute(
            SQL(
                """
                UPDATE mail_mail
                   SET mmd_claim_pid = pg_backend_pid(),
                       mmd_claim_until = (now() AT TIME ZONE 'UTC') + make_interval(secs => %s)
                 WHERE id IN (SELECT mail.id FROM mail_mail mail
                               WHERE %s
                               ORDER BY mail.id
                               LIMIT %s
                                 FOR UPDATE SKIP LOCKED)
             RETURNING id
                """,
                lease,
                self._mmd_claimable_condition(ids),
                limit,
            )
        )
        claimed_ids = sorted(row[0] for row in cr.fetchall())
        if auto_commit:
            cr.commit()  # pylint: disable=invalid-commit
        self.invalidate_model(["mmd_claim_pid", "mmd_claim_until"])
        return self.browse(claimed_ids)

    def _mmd_send_claimed(self, auto_commit):
        """Send the claimed e-mails of ``self`` (core's ``send``: one SMTP connection per
        sending configuration, each outcome committed), then what is checked once per
        batch (see :meth:`_mmd_check_sent_batch`)."""
        cache = self.env.cr.cache
        for key in BATCH_CACHE_KEYS:
            cache.pop(key, None)
        self.with_context(mmd_claimed=True).send(auto_commit=auto_commit)
        self._mmd_check_sent_batch()
        self._mmd_delete_sent_batch()

    @api.model
    def _mmd_check_sent_batch(self):
        """The checks the batch's e-mails postponed to its end: the failure rate of the
        mailings that had a refusal (the alert rules, the pause)."""
        cache = self.env.cr.cache
        mailing_ids = cache.pop("mmd_mailings_to_check", None)
        cache.pop("mmd_outcome_tag_mailings", None)
        if mailing_ids:
            mailings = self.env["mailing.mailing"].sudo().browse(sorted(mailing_ids)).exists()
            self.env["mail.delivery.alert.rule"]._check_mailings(mailings)

    def _postprocess_sent_message(self, success_pids, failure_reason=False, failure_type=None):
        if self.env.context.get("mmd_claimed") and not failure_type:
            # core's auto-delete of a sent e-mail waits for the end of the batch
            return super(
                MailMail, self.with_context(mmd_defer_sent_delete=True)
            )._postprocess_sent_message(
                success_pids, failure_reason=failure_reason, failure_type=failure_type
            )
        return super()._postprocess_sent_message(
            success_pids, failure_reason=failure_reason, failure_type=failure_type
        )

    def unlink(self):
        if self.env.context.get("mmd_defer_sent_delete") and all(
            mail.state == "sent" for mail in self
        ):
            self.env.cr.cache.setdefault("mmd_sent_to_delete", set()).update(self.ids)
            return True
        return super().unlink()

    @api.model
    def _mmd_delete_sent_batch(self):
        """Delete, in one go, the sent e-mails of the batch core would have deleted one
        by one (see :meth:`_postprocess_sent_message`)."""
        mail_ids = self.env.cr.cache.pop("mmd_sent_to_delete", None)
        if mail_ids:
            mails = self.sudo().browse(sorted(mail_ids)).exists()
            mails.filtered(lambda mail: mail.state == "sent").unlink()

    def _mmd_release_claims(self, auto_commit=True):
        """End the claims of ``self`` (those still queued go back to the queue), in a
        READ COMMITTED transaction of its own when ``auto_commit``.

        :return: how many of ``self`` are still queued (not sent by the batch)
        """
        cr = self.env.cr
        self._mmd_begin_own_transaction(auto_commit)
        cr.execute(
            SQL(
                """UPDATE mail_mail SET mmd_claim_pid = NULL, mmd_claim_until = NULL
                    WHERE id IN %s AND mmd_claim_pid = pg_backend_pid()
                RETURNING state = 'outgoing'""",
                tuple(self.ids),
            )
        )
        left = sum(1 for (outgoing,) in cr.fetchall() if outgoing)
        if auto_commit:
            cr.commit()  # pylint: disable=invalid-commit
        self.invalidate_model(["mmd_claim_pid", "mmd_claim_until"])
        return left

    @api.model
    def _mmd_count_claimable(self, ids=None):
        """How many queued e-mails a sender could claim now."""
        self.env.cr.execute(
            SQL(
                "SELECT count(*) FROM mail_mail mail WHERE %s",
                self._mmd_claimable_condition(ids),
            )
        )
        return self.env.cr.fetchone()[0]

    # ------------------------------------------------------------
    # PARALLEL SENDERS
    # ------------------------------------------------------------

    @api.model
    def _mmd_get_sender_crons(self):
        """The scheduled actions of the parallel senders (active or not)."""
        return (
            self.env["ir.cron"]
            .sudo()
            .with_context(active_test=False)
            .search([("code", "=", SENDER_CRON_CODE)], order="id")
        )

    @api.model
    def _mmd_sync_sender_crons(self, senders):
        """Keep ``senders - 1`` parallel sender scheduled actions active (the mail
        queue's own scheduled action is the first sender).

        :param senders: the *Parallel senders* setting (1 = core's single sender)
        """
        crons = self._mmd_get_sender_crons()
        wanted = max(senders, 1) - 1
        missing = wanted - len(crons)
        if missing > 0:
            model_id = self.env["ir.model"]._get_id("mail.mail")
            crons |= (
                self.env["ir.cron"]
                .sudo()
                .create(
                    [
                        {
                            "name": f"Email Delivery Diagnostics: parallel mail sender "
                            f"{len(crons) + idx + 2}",
                            "model_id": model_id,
                            "state": "code",
                            "code": SENDER_CRON_CODE,
                            "interval_number": 1,
                            "interval_type": "hours",
                            "active": True,
                        }
                        for idx in range(missing)
                    ]
                )
            )
        crons[:wanted].filtered(lambda cron: not cron.active).write({"active": True})
        crons[wanted:].filtered("active").write({"active": False})
        return crons[:wanted]

    @api.model
    def _mmd_wake_parallel_senders(self, claim_size):
        """Trigger the parallel senders when the queue holds more than one batch: each
        runs in a cron thread of its own (of this server or of another one on the
        database) and claims its own batches."""
        crons = self._mmd_get_sender_crons().filtered("active")
        if crons:
            # those already triggered will run anyway
            crons -= (
                self.env["ir.cron.trigger"].sudo().search([("cron_id", "in", crons.ids)]).cron_id
            )
        if crons and self._mmd_count_claimable() > claim_size:
            for cron in crons:
                cron._trigger()
