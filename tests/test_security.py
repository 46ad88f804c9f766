"""The threat model of README.rst (Security), one test each where the other test files do
not already prove it: what portal and public users can reach, HTML in diagnostic texts,
SQL built from recipients' data, forged VERP addresses, hostile registry patterns."""

from odoo.exceptions import AccessError
from odoo.exceptions import ValidationError
from odoo.tests import tagged
from odoo.tests.common import new_test_user
from odoo.tools import mute_logger

from .common import DeliveryCommon

ADDON_MODELS = (
    "mail.delivery.error",
    "mail.bounce.event",
    "mail.bounce.counter",
    "mail.tracking.email",
    "mail.tracking.event",
    "mail.tracking.link",
)
HOSTILE = "<img src=x onerror=alert(1)><script>alert(2)</script>"


@tagged("post_install", "-at_install", "mass_mailing_delivery")
class TestSecurity(DeliveryCommon):
    def test_portal_and_public_users_reach_nothing(self):
        portal = new_test_user(self.env, login="mmd_portal", groups="base.group_portal")
        public = self.env.ref("base.public_user")
        for user in (portal, public):
            for model in ADDON_MODELS:
                with self.subTest(user=user.login, model=model):
                    with self.assertRaises(AccessError):
                        self.env[model].with_user(user).check_access("read")
                    with self.assertRaises(AccessError):
                        self.env[model].with_user(user).search([], limit=1)

    def test_users_read_the_registry_only_managers_change_it(self):
        entry = self.env["mail.delivery.error"].search([], limit=1)
        marketer = self.user_marketing
        self.assertTrue(entry.with_user(marketer).read(["name", "explanation"]))
        with self.assertRaises(AccessError):
            entry.with_user(marketer).write({"name": "changed"})

    @mute_logger("odoo.addons.mail.models.mail_thread")
    def test_html_in_a_diagnostic_stays_text(self):
        """A remote server's words are shown as text, never as HTML: the fields that hold
        them are plain text, and no view renders them with an HTML widget."""
        events = self.receive(self.make_dsn("victim@example.com", "5.1.1", f"550 5.1.1 {HOSTILE}"))
        self.assertIn(HOSTILE, events.diagnostic, "kept verbatim, as text")
        checks = {
            "mail.bounce.event": ("diagnostic",),
            "mail.delivery.error": ("name", "explanation", "advice", "diagnostic_regex"),
            "mailing.trace": ("failure_reason",),
            "mail.blacklist": ("block_evidence",),
        }
        for model, names in checks.items():
            fields = self.env[model]._fields
            for name in names:
                self.assertIn(fields[name].type, ("char", "text"), f"{model}.{name}")
            for view_type in ("form", "list"):
                arch = self.env[model].get_views([(False, view_type)])["views"][view_type]["arch"]
                for name in names:
                    self.assertNotRegex(
                        arch, rf'name="{name}"[^>]*widget="html"', f"{model} {view_type} {name}"
                    )

    def test_sql_built_from_recipients_data(self):
        """Addresses and names with quotes and SQL go through the banner's SQL query and
        the bounce processing as parameters, never as SQL."""
        nasty = "o'hara+x@example.com"
        partners = self.create_partners(
            [nasty, "bob'); DROP TABLE mail_blacklist; --@example.com", "ok@example.com"],
            name_prefix="Robert'); DROP TABLE res_partner; --",
        )
        mailing = self.create_partner_mailing(partners)
        report = mailing.get_delivery_report()
        self.assertEqual(report["total"], 3)
        self.env["mail.blacklist"].sudo()._add(nasty)
        self.assertEqual(mailing.get_delivery_report()["ignored"].get("blacklisted", 0), 1)
        self.env.cr.execute("SELECT count(*) FROM mail_blacklist")
        self.assertTrue(self.env.cr.fetchone()[0])

    def test_a_pattern_that_could_hang_the_matching_is_refused(self):
        with self.assertRaises(ValidationError):
            self.env["mail.delivery.error"].create(
                {
                    "name": "ReDoS",
                    "category": "unknown",
                    "permanence": "permanent",
                    "explanation": "x",
                    "advice": "x",
                    "diagnostic_regex": r"(\w+\s?)+$",
                }
            )
