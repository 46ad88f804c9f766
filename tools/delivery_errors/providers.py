"""Mailbox providers: told from the recipient's domain or the reply's fingerprints."""

import re

from .base import MAX_DIAGNOSTIC
from .text import to_text

# ------------------------------------------------------------
# PROVIDERS
# ------------------------------------------------------------

#: provider -> regular expression of its recipient domains (full match)
PROVIDER_DOMAINS = {
    "gmail": r"gmail\.com|googlemail\.com|google\.com",
    "outlook": r"(?:outlook|hotmail|live)(?:\.[a-z]+)+|msn\.com|windowslive\.com|passport\.com",
    "yahoo": r"yahoo(?:\.[a-z]+)+|ymail\.com|rocketmail\.com|aol(?:\.[a-z]+)+|aim\.com",
    "icloud": r"icloud\.com|me\.com|mac\.com",
    "orange": r"orange\.fr|wanadoo\.fr|orange\.com",
    "gmx": r"gmx(?:\.[a-z]+)+",
    "web.de": r"web\.de",
    "t-online": r"t-online\.de|magenta\.de",
    "libero": r"libero\.it|iol\.it|inwind\.it|blu\.it",
    "wp.pl": r"wp\.pl|o2\.pl|tlen\.pl",
    "onet": r"onet\.(?:pl|eu)|op\.pl|vp\.pl|poczta\.onet\.pl",
    "interia": r"interia\.(?:pl|eu)|poczta\.fm|intmail\.pl",
    "free": r"free\.fr",
    "sfr": r"sfr\.fr|neuf\.fr",
    "laposte": r"laposte\.net",
    "yandex": r"yandex\.[a-z]+|ya\.ru",
    "mail.ru": r"mail\.ru|bk\.ru|inbox\.ru|list\.ru",
}
#: ``(provider, lower-case substring, regex confirming it or None)`` found in reply texts,
#: tried in order (plain substring tests are fast; the regex runs only after its substring)
PROVIDER_FINGERPRINTS = tuple(
    (provider, needle, re.compile(regex) if regex else None)
    for provider, needle, regex in (
        ("gmail", "gsmtp", None),
        ("gmail", ".google.com", None),
        ("gmail", "gmail", None),
        ("outlook", "protection.outlook.com", None),
        ("outlook", ".outlook.com", None),
        ("outlook", "hotmail.com", None),
        ("outlook", "s31", r"\bs31\d\d\b"),
        ("yahoo", "yahoo", r"yahoo(?:dns|inc)?\.(?:com|net)"),
        ("yahoo", "ts", r"\btss?0\d\b"),
        ("yahoo", "aol.com", None),
        ("icloud", "icloud.com", None),
        ("icloud", ".mail.me.com", None),
        ("orange", "ofr", r"\bofr_?\d{3}"),
        ("orange", "orange.fr", None),
        ("orange", "mwinf", None),
        ("gmx", "gmx.", r"\bgmx\.(?:net|de|com)\b"),
        ("web.de", "web.de", r"\bweb\.de\b"),
        ("t-online", "t-online.de", None),
        ("libero", "libero.it", None),
        ("libero", "italiaonline", None),
        ("wp.pl", "wp.pl", r"\bwp\.pl\b"),
        ("onet", "onet.pl", r"\bonet\.pl\b"),
        ("interia", "interia.pl", None),
        ("free", "proxad.net", None),
        ("free", "free.fr", r"\bfree\.fr\b"),
        ("sfr", "sfr.fr", r"\bsfr\.fr\b"),
        ("laposte", "laposte.net", None),
        ("yandex", "yandex.", r"yandex\.(?:net|ru|com)"),
        ("mail.ru", "mail.ru", r"\bmail\.ru\b"),
    )
)


def _group(name):
    """A regex group name for a provider code (``web.de`` -> ``web_de``)."""
    return re.sub(r"\W", "_", name)


GROUP_PROVIDER = {_group(name): name for name in PROVIDER_DOMAINS}
DOMAIN_RE = re.compile(
    "|".join(f"(?P<{_group(name)}>(?:{regex}))" for name, regex in PROVIDER_DOMAINS.items())
)


def _fingerprint(lower):
    """The provider whose fingerprint occurs in a lower-case reply text, or None."""
    for provider, needle, regex in PROVIDER_FINGERPRINTS:
        if needle in lower and (regex is None or regex.search(lower)):
            return provider
    return None


def detect_provider(text="", domain=""):
    """The mailbox provider of a recipient: from its domain, else from the reply's text.

    :param text: the diagnostic text (fingerprints such as ``gsmtp`` or ``TSS04``)
    :param domain: the recipient's domain or full address
    :return: a provider code of :data:`PROVIDER_DOMAINS` or None
    """
    domain = to_text(domain, 320).strip().lower().rpartition("@")[2].strip(" .>")
    if domain:
        match = DOMAIN_RE.fullmatch(domain)
        if match:
            return GROUP_PROVIDER[match.lastgroup]
    return _fingerprint(to_text(text, MAX_DIAGNOSTIC).lower())
