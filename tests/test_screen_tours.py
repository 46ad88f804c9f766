"""Every screen group of the README that the other tours do not visit, clicked through
in headless Chromium on the demo's story, in English then in Italian: the bounce log, the
Delivery Failures report, the settings, the outgoing mail server, the failure popup of a
document e-mail, the blocked addresses, the delivery alerts, a contact (his second and
third e-mails, his sent e-mails, his block) and a sent mailing's tabs
(``static/tests/tours/screen_tours.js``). A tour fails on any error dialog."""

import json
import uuid
from dataclasses import asdict

from odoo.tests import HttpCase
from odoo.tests import tagged
from odoo.tools import mute_logger

from ..tools.providers import ProviderEvent
from .common import TOUR_LANGUAGES
from .common import DeliveryCommon
from .common import install_italian
from .test_demo import tell_story


@tagged("post_install", "-at_install", "mass_mailing_delivery", "mmd_screen_tours")
class TestScreenTours(DeliveryCommon, HttpCase):
    def queue_provider_events(self, server):
        """A sending service's event waiting to be applied, and one that failed (its
        stored payload is not an event: a field too many)."""
        Waiting = self.env["mail.provider.event"].sudo()
        Waiting.search([]).unlink()
        waiting = ProviderEvent(
            provider="mailgun",
            event_id=f"tour-{uuid.uuid4().hex}",
            kind="hard",
            recipient="waiting.tour@example.com",
            diagnostic="550 5.1.1 The email account that you tried to reach does not exist.",
            smtp_code=550,
            status="5.1.1",
        )
        failed = asdict(waiting) | {
            "event_id": f"tour-{uuid.uuid4().hex}",
            "recipient": "failed.tour@example.com",
            "not_a_field": 1,
        }
        for event, payload, state in (
            (waiting, asdict(waiting), "queued"),
            (waiting, failed, "failed"),
        ):
            key = f"mailgun:{payload['event_id']}"
            Waiting.create(
                {
                    "mail_server_id": server.id,
                    "provider": "mailgun",
                    "event_key": key,
                    "recipient": payload["recipient"],
                    "kind": event.kind,
                    "dedup_key": f"{key}|{payload['recipient']}",
                    "payload": json.dumps(payload),
                    "state": state,
                    "attempts": 1 if state == "failed" else 0,
                    "error": "TypeError: unexpected keyword argument 'not_a_field'"
                    if state == "failed"
                    else False,
                }
            )

    @mute_logger("odoo.addons.mail.models.mail_mail", "odoo.addons.mail.models.mail_thread")
    def test_screen_tours(self):
        """One tour per screen group, each in English and in Italian."""
        autumn = tell_story(self)
        install_italian(self.env)
        server = self.env["ir.mail_server"].create(
            {
                "name": "Relay (tour)",
                "smtp_host": "localhost",
                "smtp_port": 2525,
                "mmd_provider": "mailgun",
            }
        )
        self.queue_provider_events(server)
        tours = [
            ("action-mass_mailing_delivery.mail_bounce_event_action", "bounce_log"),
            ("action-mass_mailing_delivery.mail_provider_event_action", "provider_events"),
            ("action-mass_mailing_delivery.mail_delivery_report_action", "delivery_failures"),
            ("action-mass_mailing.action_mass_mailing_configuration", "settings"),
            (f"action-base.action_ir_mail_server_list/{server.id}", "mail_server"),
            ("action-mail.mail_blacklist_action", "blocklist"),
            ("action-mass_mailing_delivery.mail_delivery_alert_rule_action", "alerts"),
            (f"action-mass_mailing.mailing_mailing_action_mail/{autumn.id}", "mailing_tabs"),
        ]
        marco = self.env.ref("mass_mailing_delivery.partner_demo_unknown_user")
        tours.append((f"action-contacts.action_contacts/{marco.id}", "contact"))
        if "account.move" in self.env:
            invoice = self.env["account.move"].search(
                [("partner_id", "=", marco.id), ("move_type", "=", "out_invoice")], limit=1
            )
            self.assertTrue(invoice, "the story e-mailed Marco's invoice")
            tours.append((f"account.move/{invoice.id}", "resend_popup"))
        admin = self.env.ref("base.user_admin")
        for lang in TOUR_LANGUAGES:
            admin.lang = lang
            self.queue_provider_events(server)
            for path, name in tours:
                with self.subTest(lang=lang, tour=name):
                    self.start_tour(
                        f"/odoo/{path}", f"mass_mailing_delivery_{name}_tour", login="admin"
                    )
