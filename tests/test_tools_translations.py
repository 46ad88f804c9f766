"""Every translatable string of the addon is translated in it, de, fr and pl (no database)."""

from pathlib import Path

import polib
import pytest

I18N = Path(__file__).resolve().parent.parent / "i18n"
LANGS = ("it", "de", "fr", "pl")


def _template():
    return polib.pofile(str(I18N / "mass_mailing_delivery.pot"))


@pytest.mark.parametrize("lang", LANGS)
def test_every_string_translated(lang):
    template = _template()
    catalog = {entry.msgid: entry for entry in polib.pofile(str(I18N / f"{lang}.po"))}
    missing = [
        entry.msgid[:60]
        for entry in template
        if entry.msgid not in catalog or not catalog[entry.msgid].msgstr.strip()
    ]
    assert not missing, f"{len(missing)} untranslated strings in {lang}.po, e.g. {missing[:5]}"


@pytest.mark.parametrize("lang", LANGS)
def test_placeholders_kept(lang):
    """A translation keeps the named placeholders of its source string."""
    import re

    placeholder = re.compile(r"%\(\w+\)s")
    for entry in polib.pofile(str(I18N / f"{lang}.po")):
        if entry.msgstr and not entry.obsolete:
            assert sorted(placeholder.findall(entry.msgid)) == sorted(
                placeholder.findall(entry.msgstr)
            ), f"{lang}: {entry.msgid!r}"
