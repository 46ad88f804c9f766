"""The matcher: the most specific matching rule wins."""

from .base import Classification
from .fallback import fallback
from .providers import detect_provider
from .rules import _compile_rule
from .text import STATUS_RE
from .text import parse_smtp_reply
from .text import to_text

# ------------------------------------------------------------
# MATCHER
# ------------------------------------------------------------


class Matcher:
    """A compiled rule set. Build once (``Matcher(rules)``), classify many times.

    Rules that cannot be compiled (unknown category, invalid status pattern or regular
    expression) are skipped and described in :attr:`errors`.
    """

    #: candidate lists kept per (status, provider)
    CANDIDATE_CACHE = 4096
    #: rules found kept per (code, status, text, provider): the recipients of one report
    #: often share one diagnostic (a text is at most 4000 characters: a few MB at most)
    MATCH_CACHE = 1024

    def __init__(self, rules=()):
        self.errors = []
        self.rules = []
        for rule in rules:
            compiled, error = _compile_rule(rule)
            if error:
                self.errors.append(error)
            else:
                self.rules.append(compiled)
        # most specific first, then highest priority, then key (stable result)
        self.rules.sort(key=lambda c: (-c.score, -(c.rule.priority or 0), str(c.rule.key)))
        self._candidates = {}
        self._matches = {}

    def __len__(self):
        return len(self.rules)

    def _candidates_for(self, status, provider):
        """The rules whose status and provider criteria accept the failure, best first."""
        key = (status, provider)
        found = self._candidates.get(key)
        if found is None:
            prefixes = {""}
            if status:
                parts = status.split(".")
                prefixes |= {".".join(parts[:size]) for size in (1, 2, 3)}
            found = tuple(
                compiled
                for compiled in self.rules
                if compiled.status_prefix in prefixes
                and (not compiled.rule.provider or compiled.rule.provider == provider)
            )
            if len(self._candidates) < self.CANDIDATE_CACHE:
                self._candidates[key] = found
        return found

    def match(self, code, status, text, provider):
        """The best matching :class:`Rule` or None (inputs already parsed and cleaned)."""
        key = (code, status, text, provider)
        if key in self._matches:
            return self._matches[key]
        lower = text.lower()
        found = None
        for compiled in self._candidates_for(status, provider):
            if compiled.matches(code, text, lower):
                found = compiled.rule
                break
        if len(self._matches) < self.MATCH_CACHE:
            self._matches[key] = found
        return found

    def classify(self, smtp_code=None, status=None, diagnostic="", provider=None, recipient=""):
        """Classify one failure. Never raises.

        :param smtp_code: SMTP reply code when known (else read from ``diagnostic``)
        :param status: RFC 3463 enhanced status code when known (else read from ``diagnostic``)
        :param diagnostic: the server's reply or the bounce's diagnostic text (str or bytes)
        :param provider: mailbox provider code when known (else detected)
        :param recipient: the recipient's address or domain (tells the provider)
        :rtype: Classification
        """
        parsed_code, parsed_status, text = parse_smtp_reply(diagnostic)
        code = _as_code(smtp_code) or parsed_code
        status = _as_status(status) or parsed_status
        provider = to_text(provider, 40).strip().lower() or detect_provider(text, recipient)
        rule = self.match(code, status, text, provider)
        if rule is None:
            category, permanence = fallback(code, status, bool(text))
            key = None
        else:
            category, permanence, key = rule.category, rule.permanence, rule.key
        return Classification(category, permanence, key, code, status, text, provider or None)


def _as_code(value):
    """A reply code as int in 200..599, or None."""
    try:
        code = int(to_text(value, 10).strip() or 0) if not isinstance(value, int) else value
    except (TypeError, ValueError):
        return None
    return code if 200 <= code <= 599 else None


def _as_status(value):
    """An enhanced status code like ``5.1.1`` found in ``value``, or None."""
    if not value:
        return None
    match = STATUS_RE.search(to_text(value, 40))
    return match.group(1) if match else None


# ------------------------------------------------------------
