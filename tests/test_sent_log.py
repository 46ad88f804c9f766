"""The sent e-mails log: rows of every source, access rules, alerts on failures and
bounces, the pause of a mailing crossing its failure limit, synchronisation and
retention. E-mails leave through the real loopback SMTP server."""

from datetime import timedelta

from odoo import Command
from odoo import fields
from odoo.addons.mail.tests.common import mail_new_test_user
from odoo.exceptions import AccessError
from odoo.tests import tagged
from odoo.tests import users
from odoo.tools import html2plaintext
from odoo.tools import mute_logger

from .common import DeliveryCommon


@tagged("post_install", "-at_install", "mass_mailing_delivery")
class TestSentLog(DeliveryCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user_salesman = mail_new_test_user(
            cls.env, login="user_salesman", groups="base.group_user", name="Sam Salesman"
        )
        cls.user_outsider = mail_new_test_user(
            cls.env, login="user_outsider", groups="base.group_user", name="Otto Outsider"
        )
        cls.user_portal = mail_new_test_user(
            cls.env, login="user_portal_log", groups="base.group_portal", name="Paula Portal"
        )
        cls.customer = cls.env["res.partner"].create(
            {"name": "Nora Nouser", "email": "nora@nouser.example"}
        )
        cls.invoice = cls.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": cls.customer.id,
                "invoice_user_id": cls.user_salesman.id,
                "invoice_line_ids": [
                    Command.create({"name": "Consulting", "quantity": 1, "price_unit": 100})
                ],
            }
        )
        cls.Log = cls.env["mail.sent.log"]

    # ------------------------------------------------------------
    # HELPERS
    # ------------------------------------------------------------

    def post_and_send(self, record, partners, real=True):
        """Post an e-mail on ``record`` to ``partners`` and send it now.

        :param real: through the loopback SMTP server (else Odoo's test mode: sent)
        :return: the ``mail.message`` posted
        """
        return self.send_document_email(
            record, partners, body="<p>Your document</p>", subject="Your document", real=real
        )

    def log_rows(self, **domain):
        return self.Log.search([(key, "=", value) for key, value in domain.items()])

    # ------------------------------------------------------------
    # LOG CONTENT
    # ------------------------------------------------------------

    @users("user_marketing")
    def test_mailing_rows_states_and_search(self):
        partners = self.create_partners(
            ["ok1@customer.example", "ok2@customer.example", "Someone@NOUSER.example"]
        )
        mailing = self.create_partner_mailing(partners)
        with mute_logger("odoo.addons.mail.models.mail_mail"):
            self.send_mailing(mailing)
        rows = self.Log.search([("mailing_id", "=", mailing.id)])
        self.assertEqual(len(rows), 3, "one row per recipient")
        states = {row.email.lower(): row.state for row in rows}
        self.assertEqual(
            states,
            {
                "ok1@customer.example": "sent",
                "ok2@customer.example": "sent",
                "someone@nouser.example": "failed",
            },
        )
        failed = rows.filtered(lambda r: r.state == "failed")
        self.assertTrue(failed.delivery_error_id, "the failure is explained by the registry")
        self.assertEqual(failed.delivery_error_category, failed.delivery_error_id.category)
        self.assertEqual(failed.recipient_domain, "nouser.example")
        self.assertEqual(failed.subject, "Delivery test")
        self.assertEqual(failed.document, partners[2])
        # partial, case-insensitive recipient search; domain search; groups
        found = self.Log.search([("email", "ilike", "MEONE@nouser")])
        self.assertEqual(found, failed)
        self.assertEqual(
            self.Log.search([("recipient_domain", "=", "customer.example")]), rows - failed
        )
        groups = dict(
            self.Log._read_group([("mailing_id", "=", mailing.id)], ["state"], ["__count"])
        )
        self.assertEqual(groups, {"sent": 2, "failed": 1})
        by_domain = dict(
            self.Log._read_group(
                [("mailing_id", "=", mailing.id)], ["recipient_domain"], ["__count"]
            )
        )
        self.assertEqual(by_domain, {"customer.example": 2, "nouser.example": 1})
        # the contact's smart button lists the same rows
        self.assertEqual(partners[2].mmd_sent_email_count, 1)
        action = partners[2].action_mmd_sent_emails()
        self.assertEqual(self.Log.search(action["domain"]), failed)

    def test_document_rows_and_open_document(self):
        other = self.env["res.partner"].create({"name": "Olga", "email": "olga@customer.example"})
        message = self.post_and_send(self.invoice, other, real=False)
        row = self.Log.search([("mail_message_id", "=", message.id), ("partner_id", "=", other.id)])
        self.assertEqual(len(row), 1)
        self.assertEqual((row.email, row.state), ("olga@customer.example", "sent"))
        self.assertEqual(row.document, self.invoice)
        self.assertEqual(row.partner_id, other)
        action = row.action_open_document()
        self.assertEqual((action["res_model"], action["res_id"]), ("account.move", self.invoice.id))
        # ids are stable: the same row is read again by id
        self.assertEqual(self.Log.browse(row.id).email, "olga@customer.example")

    # ------------------------------------------------------------
    # ACCESS
    # ------------------------------------------------------------

    def test_access_rules(self):
        carol = self.env["res.partner"].create(
            {
                "name": "Carol",
                "email": "carol@customer.example",
                "user_id": self.user_salesman.id,
            }
        )
        message = self.post_and_send(self.invoice, carol, real=False)
        domain = [("mail_message_id", "=", message.id), ("partner_id", "=", carol.id)]
        row = self.Log.search(domain)
        self.assertEqual(len(row), 1)
        # the contact's salesperson sees it, a user not involved does not
        self.assertEqual(self.Log.with_user(self.user_salesman).search(domain), row)
        self.assertFalse(self.Log.with_user(self.user_outsider).search(domain))
        with self.assertRaises(AccessError):
            self.Log.with_user(self.user_outsider).browse(row.id).read(["email"])
        # a marketing user sees the mass mailings, not this document's e-mail
        self.assertFalse(self.Log.with_user(self.user_marketing).search(domain))
        # portal users have no access at all
        with self.assertRaises(AccessError):
            self.Log.with_user(self.user_portal).search(domain)
        # another company's document is hidden from a user of this company only
        other_company = self.env["res.company"].create({"name": "Other Co"})
        message.sudo().record_company_id = other_company
        self.env.invalidate_all()
        self.assertFalse(self.Log.with_user(self.user_salesman).search(domain))

    # ------------------------------------------------------------
    # ALERTS
    # ------------------------------------------------------------

    def test_invoice_failure_activity_for_salesperson(self):
        message = self.post_and_send(self.invoice, self.customer)
        mail = (
            self.env["mail.mail"]
            .sudo()
            .search([("mail_message_id", "=", message.id), ("state", "=", "exception")])
        )
        self.assertEqual(len(mail), 1, "the loopback server refused 550 5.1.1")
        entry = mail.delivery_error_id
        self.assertTrue(entry and entry.explanation)
        activities = self.invoice.activity_ids
        self.assertEqual(len(activities), 1)
        self.assertEqual(activities.user_id, self.user_salesman, "the invoice's salesperson")
        self.assertEqual(activities.activity_type_id, self.env.ref("mail.mail_activity_data_todo"))
        self.assertIn("nora@nouser.example", activities.summary)
        note = " ".join(html2plaintext(activities.note).split())
        self.assertIn(" ".join(entry.explanation.split()), note)
        self.assertIn("mail_sent_log_action", activities.note)
        row = self.Log.search(
            [("mail_message_id", "=", message.id), ("email", "=", "nora@nouser.example")]
        )
        self.assertEqual(row.state, "failed")
        self.assertEqual(row.delivery_error_id, entry)
        # the salesperson can read the log row of the failure
        self.assertEqual(self.Log.with_user(self.user_salesman).search([("id", "=", row.id)]), row)

    def test_bounce_reply_raises_alert(self):
        customer = self.env["res.partner"].create(
            {"name": "Ben Bounce", "email": "ben@customer.example"}
        )
        message = self.post_and_send(self.invoice, customer, real=False)
        self.assertFalse(self.invoice.activity_ids)
        with mute_logger("odoo.addons.mass_mailing_delivery.models.mail_bounce_event.event"):
            events = self.receive(
                self.make_dsn(
                    "ben@customer.example",
                    "5.1.1",
                    "550 5.1.1 <ben@customer.example>: Recipient address rejected: User unknown",
                    original_message_id=message.message_id,
                )
            )
        self.assertEqual(events.kind, "hard")
        activity = self.invoice.activity_ids
        self.assertEqual(activity.user_id, self.user_salesman)
        self.assertIn("bounced", activity.summary.lower())
        self.assertIn(events.delivery_error_id.name, html2plaintext(activity.note))
        row = self.Log.search(
            [("mail_message_id", "=", message.id), ("partner_id", "=", customer.id)]
        )
        self.assertEqual(row.state, "bounced")

    @users("user_marketing")
    def test_mailing_crossing_bounce_limit_pauses(self):
        self.env.ref("mass_mailing_delivery.alert_rule_mailing").sudo().write(
            {"rate_threshold": 20, "min_sample": 5}
        )
        emails = [f"good{i}@customer.example" for i in range(5)]
        emails += [f"bad{i}@nouser.example" for i in range(10)]
        partners = self.create_partners(emails)
        mailing = self.create_partner_mailing(partners)
        with mute_logger("odoo.addons.mail.models.mail_mail"):
            traces = self.send_mailing(mailing)
        self.assertTrue(mailing.mmd_paused, "the failure rate passed 20 %")
        self.assertIn("With 95 % confidence the rate is between", mailing.mmd_pause_reason)
        self.assertIn("above the limit of 20 %", mailing.mmd_pause_reason)
        held = self.env["mail.mail"].sudo().search([("mailing_id", "=", mailing.id)])
        held = held.filtered(lambda m: m.mmd_paused and m.state == "cancel")
        self.assertTrue(held, "the pending e-mails are on hold")
        processed = traces.filtered(lambda t: t.trace_status in ("sent", "error"))
        self.assertLess(len(processed), 15, "sending stopped before the end")
        self.assertEqual(len(processed) + len(held), 15)
        self.assertEqual(
            len(self.smtpd.received), len(processed.filtered(lambda t: t.trace_status == "sent"))
        )
        activity = mailing.sudo().activity_ids
        self.assertEqual(activity.user_id, self.user_marketing, "the mailing's owner is alerted")
        # resuming sends what was on hold, and nothing twice
        mailing.action_mmd_resume()
        self.assertFalse(mailing.mmd_paused)
        self.assertEqual(set(held.mapped("state")), {"outgoing"})
        with self.real_smtp(), mute_logger("odoo.addons.mail.models.mail_mail"):
            held.send()
        self.env.invalidate_all()
        self.assertEqual(
            sorted(mailing.mailing_trace_ids.mapped("trace_status")),
            sorted(["sent"] * 5 + ["error"] * 10),
        )

    # ------------------------------------------------------------
    # SYNCHRONISATION
    # ------------------------------------------------------------

    def test_synchronize_reports_stuck_and_late_bounces(self):
        partners = self.create_partners(["late@customer.example"])
        mailing = self.create_partner_mailing(partners)
        trace = self.send_mailing(mailing)
        self.assertEqual(trace.trace_status, "sent")
        # a bounce recorded while the trace still showed a success elsewhere
        self.env["mail.bounce.event"].sudo().create(
            {"kind": "hard", "recipient": "late@customer.example", "trace_id": trace.id}
        )
        stuck = (
            self.env["mail.mail"]
            .sudo()
            .create(
                {"email_to": "stuck@customer.example", "subject": "Stuck", "body_html": "<p>x</p>"}
            )
        )
        self.env.cr.execute(
            "UPDATE mail_mail SET create_date = now() - interval '3 hours' WHERE id = %s",
            [stuck.id],
        )
        self.env.invalidate_all()
        result = self.env["mail.bounce.event"].action_synchronize()
        message = result["params"]["message"]
        self.assertIn("Queued for longer than 60 min: 1;", message)
        self.assertIn("accepted by the server, then marked bounced: 1.", message)
        self.assertTrue(stuck.mmd_stuck)
        self.assertEqual(trace.trace_status, "bounce")
        row = self.Log.search([("source", "=", "trace"), ("source_id", "=", trace.id)])
        self.assertEqual(row.state, "bounced")
        row = self.Log.search([("source", "=", "mail"), ("source_id", "=", stuck.id)])
        self.assertEqual(row.state, "queued")

    # ------------------------------------------------------------
    # RETENTION
    # ------------------------------------------------------------

    def age(self, records, days):
        self.env.flush_all()
        self.env.cr.execute(
            f"UPDATE {records._table} SET create_date = %s WHERE id IN %s",
            [fields.Datetime.now() - timedelta(days=days), tuple(records.ids)],
        )
        self.env.invalidate_all()

    def test_retention_deletes_only_older_rows(self):
        Tracking = self.env["mail.tracking.email"].sudo()
        old_tracking, new_tracking = Tracking.create(
            [
                {"email": "old@customer.example", "state": "sent"},
                {"email": "new@customer.example", "state": "sent"},
            ]
        )
        Event = self.env["mail.bounce.event"].sudo()
        old_event, evidence, new_event = Event.create(
            [
                {"kind": "soft", "recipient": "old@customer.example"},
                {"kind": "hard", "recipient": "blocked@customer.example"},
                {"kind": "soft", "recipient": "new@customer.example"},
            ]
        )
        self.env["mail.blacklist"].sudo()._add("blocked@customer.example")
        Mail = self.env["mail.mail"].sudo()
        old_mail, new_mail = Mail.create(
            [
                {"email_to": "old@customer.example", "state": "exception", "body_html": "x"},
                {"email_to": "new@customer.example", "state": "exception", "body_html": "x"},
            ]
        )
        mailing = self.create_partner_mailing(self.create_partners(["stat@customer.example"]))
        trace = self.send_mailing(mailing)
        self.age(old_tracking, 181)
        self.age(old_event + evidence, 181)
        self.age(old_mail, 181)
        self.age(trace, 400)
        for record in (new_tracking, new_event, new_mail):
            self.age(record, 179)

        # bounded: one record per batch, two batches per run
        result = self.Log._purge_older_than(180, batch_size=1, max_batches=2)
        self.assertTrue(result["more"])
        self.assertEqual(sum(result["deleted"].values()), 2)
        self.env["ir.config_parameter"].sudo().set_param(
            "mass_mailing_delivery.log_retention_days", "180"
        )
        self.Log._cron_retention()
        for record in (old_tracking, old_event, old_mail):
            self.assertFalse(record.exists(), f"{record} is older than the retention")
        for record in (new_tracking, new_event, new_mail, evidence, trace):
            self.assertTrue(
                record.exists(), f"{record}: newer rows, evidence and statistics are kept"
            )
        self.assertEqual(mailing.sent, 1)

    def test_delete_action_managers_only(self):
        tracking = (
            self.env["mail.tracking.email"]
            .sudo()
            .create(
                {"email": "del@customer.example", "state": "sent", "partner_id": self.customer.id}
            )
        )
        row = self.Log.search([("source", "=", "tracking"), ("source_id", "=", tracking.id)])
        self.assertTrue(row)
        self.customer.user_id = self.user_salesman
        with self.assertRaises(AccessError):
            row.with_user(self.user_salesman).action_delete()
        result = row.action_delete()
        self.assertEqual(result["params"]["type"], "success")
        self.assertFalse(tracking.exists())
