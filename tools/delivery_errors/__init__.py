"""Delivery error registry core: SMTP reply parsing and rule matching, with no ORM.

A *rule* (:class:`Rule`) is one entry of the ``mail.delivery.error`` registry reduced to its
matching criteria: an SMTP reply code range, an RFC 3463 enhanced status code or prefix
(``5.1.1``, ``5.7.*``, ``4.*``), a case-insensitive regular expression searched in the
diagnostic text, and a mailbox provider (``gmail``, ``outlook``, ``yahoo``...). A rule matches
a failure only when *all* of its non-empty criteria match.

:class:`Matcher` compiles a rule set once and classifies failures: among the matching rules the
most specific wins (provider, then regular expression, then exact status over status prefix over
status class, then narrow code range over wide), then the highest ``priority``. When no rule
matches, a built-in RFC 3463 / RFC 5321 classification is returned with ``rule_key=None``.

Speed: rules are pre-filtered by status and provider (candidate lists cached per status), by
code range, then by literal substrings that any match of their regex must contain (read from
the parsed pattern, tested on the lower-cased text) before the regex itself runs. The literal
test folds case with ``str.lower()``; exotic ``re.IGNORECASE`` equivalences (the long s for ``s``,
the Kelvin sign for ``k``) are not seen through by it.

Everything here is pure standard-library Python: the package is used both by the Odoo model
(``odoo.addons.mass_mailing_delivery.tools.delivery_errors``) and without a database (bounce
parser, unit tests, benchmarks). :meth:`Matcher.classify` never raises.

The package, by concern: ``base`` (categories, permanences, the rule and classification
values), ``text`` (text cleaning, SMTP reply parsing), ``providers``, ``rules`` (pattern
validation, status patterns, literal pre-filters, compiled rules), ``fallback``,
``matcher``, ``seed`` (matchers cached per registry version, the seed data file) and
``entries`` (new entries proposed from a failure's words); its public names are
imported here.
"""

from .base import CATEGORIES
from .base import DATA_FILE
from .base import MAX_DIAGNOSTIC
from .base import PERMANENCES
from .base import Classification
from .base import Rule
from .entries import regex_from_diagnostic
from .fallback import fallback
from .matcher import Matcher
from .providers import PROVIDER_DOMAINS
from .providers import detect_provider
from .rules import parse_status_pattern
from .rules import required_literals
from .rules import validate_regex
from .seed import clear_cache
from .seed import default_matcher
from .seed import get_matcher
from .seed import load_rules_from_xml
from .text import SMTPLIB_ARGS_RE
from .text import SMTPLIB_RE
from .text import _decode_literal
from .text import clean_text
from .text import parse_smtp_reply
from .text import to_text

__all__ = [
    "CATEGORIES",
    "DATA_FILE",
    "MAX_DIAGNOSTIC",
    "PERMANENCES",
    "PROVIDER_DOMAINS",
    "SMTPLIB_ARGS_RE",
    "SMTPLIB_RE",
    "Classification",
    "Matcher",
    "Rule",
    "_decode_literal",
    "clean_text",
    "clear_cache",
    "default_matcher",
    "detect_provider",
    "fallback",
    "get_matcher",
    "load_rules_from_xml",
    "parse_smtp_reply",
    "parse_status_pattern",
    "regex_from_diagnostic",
    "required_literals",
    "to_text",
    "validate_regex",
]
