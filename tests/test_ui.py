"""Screens, as a user clicks through them in a real headless Chromium (Odoo tours)."""

from odoo.tests import HttpCase
from odoo.tests import tagged

from .common import start_tour_in_languages


@tagged("post_install", "-at_install", "mass_mailing_delivery")
class TestUi(HttpCase):
    def test_registry_tour(self):
        start_tour_in_languages(self, "/odoo", "mass_mailing_delivery_registry_tour")
