"""Constants of the registry and the values the matcher works with."""

import os
from dataclasses import dataclass

CATEGORIES = (
    "recipient_unknown",
    "domain_unknown",
    "mailbox_disabled",
    "mailbox_moved",
    "mailbox_full",
    "message_too_large",
    "content_rejected",
    "virus_detected",
    "sender_blocked",
    "sender_rejected",
    "policy_rejected",
    "authentication",
    "rate_limited",
    "expired",
    "network_error",
    "server_error",
    "complaint",
    "auto_reply",
    "unknown",
)
PERMANENCES = ("permanent", "temporary", "none")

#: cleaned diagnostics are cut to this many characters
MAX_DIAGNOSTIC = 4000
#: raw input read (characters, or bytes before decoding); the rest of a huge text is ignored
MAX_SCAN = 16000
#: longest accepted ``diagnostic_regex``
MAX_REGEX = 1000
#: the seed data file, relative to the addon root
DATA_FILE = os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
    "data",
    "mail_delivery_error_data.xml",
)
#: default ``priority`` of a registry entry (the model's field default)
DEFAULT_PRIORITY = 10

# ---- specificity weights (see Matcher) ----
SCORE_PROVIDER = 100
SCORE_REGEX = 40
SCORE_STATUS = {3: 30, 2: 20, 1: 10}


@dataclass(frozen=True)
class Rule:
    """The matching criteria of one registry entry (empty / 0 criteria match anything).

    ``smtp_code_max`` 0 with a ``smtp_code_min`` means exactly ``smtp_code_min``; a
    ``smtp_code_max`` alone means any code up to it.
    """

    key: str
    category: str
    permanence: str
    smtp_code_min: int = 0
    smtp_code_max: int = 0
    status_pattern: str = ""
    diagnostic_regex: str = ""
    provider: str = ""
    priority: int = 0
    name: str = ""


@dataclass(frozen=True)
class Classification:
    """The outcome of :meth:`Matcher.classify` for one failure."""

    category: str
    permanence: str
    rule_key: str | None
    smtp_code: int | None
    status: str | None
    diagnostic: str
    provider: str | None
