"""The addon speaks Italian, German, French and Polish: each language is loaded as a user
would install it, and the main views render with the addon's own strings translated."""

from pathlib import Path

import polib

from odoo.tests import tagged
from odoo.tools.translate import TranslationModuleReader

from .common import DeliveryCommon

LANGS = ("it_IT", "de_DE", "fr_FR", "pl_PL")

#: (model, view type, a label of the addon in that view)
VIEWS = (
    ("mail.delivery.error", "form", "What happened"),
    ("mail.delivery.error", "list", "Category"),
    ("mail.bounce.event", "form", "Reporting server"),
    ("mail.bounce.event", "list", "Done to the address"),
    ("mail.tracking.email", "form", "First opened"),
    ("mail.sent.log", "list", "Recipient domain"),
    ("mail.blacklist", "form", "Block reason"),
)


@tagged("post_install", "-at_install", "mass_mailing_delivery")
class TestLanguages(DeliveryCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        for lang in LANGS:
            cls.env["res.lang"]._activate_lang(lang)
        cls.env["ir.module.module"]._load_module_terms(
            ["mass_mailing_delivery"], list(LANGS), overwrite=True
        )

    def _arch(self, model, view_type, lang):
        views = self.env[model].with_context(lang=lang).get_views([(False, view_type)])
        return views["views"][view_type]["arch"], views["models"][model]["fields"]

    def test_main_views_render_translated(self):
        for model, view_type, label in VIEWS:
            english_arch, english_fields = self._arch(model, view_type, "en_US")
            self.assertTrue(
                label in english_arch
                or any(field.get("string") == label for field in english_fields.values()),
                f"{model} {view_type}: '{label}' is a label of the English view",
            )
            for lang in LANGS:
                with self.subTest(model=model, view=view_type, lang=lang):
                    arch, fields = self._arch(model, view_type, lang)
                    strings = {field.get("string") for field in fields.values()}
                    self.assertNotIn(label, strings, "the field label is translated")
                    self.assertNotIn(f'string="{label}"', arch, "the view label is translated")

    def test_registry_explanations_translated(self):
        entry, _result = self.env["mail.delivery.error"]._classify("550 5.1.1 User unknown")
        english = entry.with_context(lang="en_US").read(["explanation", "advice"])[0]
        for lang in LANGS:
            with self.subTest(lang=lang):
                translated = entry.with_context(lang=lang).read(["explanation", "advice"])[0]
                self.assertNotEqual(translated["explanation"], english["explanation"])
                self.assertNotEqual(translated["advice"], english["advice"])

    def test_pot_lists_every_string_of_the_installed_addon(self):
        """The committed .pot is the export of what is installed: a string added to the
        code, a view or the data without ``make i18n`` fails here (the .po files are
        checked against the .pot by ``test_tools_translations.py``)."""
        pot = Path(__file__).resolve().parent.parent / "i18n" / "mass_mailing_delivery.pot"
        known = {entry.msgid for entry in polib.pofile(str(pot))}
        exported = {
            source
            for _module, _type, _name, _res_id, source, _value, _comments in (
                TranslationModuleReader(self.env.cr, modules=["mass_mailing_delivery"])
            )
        }
        missing = sorted(source[:70] for source in exported - known)
        self.assertFalse(missing, f"{len(missing)} strings missing from the .pot: run make i18n")

    def test_banner_singular_and_plural_translated(self):
        """The banner's singular and plural wordings are one term with their markup: the
        translated form keeps both spans and the conditions that choose between them."""
        arch, _fields = self._arch("mailing.mailing", "form", "fr_FR")
        self.assertIn(
            '<span invisible="not_sent_count != 1">e-mail n\'a pas été envoyé :</span>', arch
        )
        self.assertIn(
            '<span invisible="not_sent_count == 1">e-mails n\'ont pas été envoyés :</span>', arch
        )
        self.assertNotIn("mails were not sent", arch)
