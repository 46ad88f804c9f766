"""Rules: validated patterns, status patterns, literal pre-filters, compiled rules."""

import re
from functools import lru_cache

from .base import CATEGORIES
from .base import MAX_REGEX
from .base import PERMANENCES
from .base import SCORE_PROVIDER
from .base import SCORE_REGEX
from .base import SCORE_STATUS

try:  # Python >= 3.11
    from re import _compiler as sre_compile
    from re import _constants as sre_constants
    from re import _parser as sre_parse
except ImportError:  # pragma: no cover
    import sre_compile
    import sre_constants
    import sre_parse


# ------------------------------------------------------------
# RULES
# ------------------------------------------------------------


#: ``re.IGNORECASE`` as a plain int for the parser and the compiler, called directly here:
#: given the flag itself, they combine it with every item's flags as an enum (``re.compile``
#: passes the int), and compiling took three times as long
IGNORECASE = int(re.IGNORECASE)


@lru_cache(maxsize=512)
def _parsed(pattern):
    """The parsed (case-insensitive) form of ``pattern``, read once for the validation and
    the literal pre-filter of a rule (only read, never changed)."""
    return sre_parse.parse(pattern, IGNORECASE)


def validate_regex(pattern):
    """An English error message when ``pattern`` is not a usable regular expression, else None."""
    error = _pattern_error(pattern)
    if error is None:
        try:
            re.compile(pattern, re.IGNORECASE)
        except re.error as exc:
            return _regex_error(exc)
        except (RecursionError, OverflowError, ValueError):
            return "the pattern is too complex"
    return error


def _pattern_error(pattern):
    """What :func:`validate_regex` says of ``pattern`` as far as its parsed form tells (no
    compiling: a matcher compiles a rule's regex only once its literals are seen)."""
    if not isinstance(pattern, str):
        return "the pattern must be text"
    if len(pattern) > MAX_REGEX:
        return f"the pattern is longer than {MAX_REGEX} characters"
    try:
        nested = _has_nested_repeat(_parsed(pattern))
    except re.error as exc:
        return _regex_error(exc)
    except (RecursionError, OverflowError, ValueError):
        return "the pattern is too complex"
    if nested:
        # e.g. (a+)+ or (\w*\s?)*: on some texts the matching takes exponential time, and
        # every failure is matched against the registry
        return "a repeated group contains a repetition (like (a+)+), which can take forever"
    return None


def _regex_error(exc):
    """The message of a ``re.error``, with its position when it has one."""
    return f"{exc.msg} at position {exc.pos}" if exc.pos is not None else exc.msg


_REPEATS = (
    sre_parse.MAX_REPEAT,
    sre_parse.MIN_REPEAT,
    getattr(sre_parse, "POSSESSIVE_REPEAT", None),
)


def _items(parsed):
    """The ``(op, av)`` items of a parsed (sub)pattern: the list a ``SubPattern`` holds
    (iterating the ``SubPattern`` itself calls a Python method per item)."""
    return getattr(parsed, "data", parsed)


def _has_nested_repeat(parsed, inside_repeat=False):
    """Whether a repetition of more than one occurrence sits inside another one."""
    for op, av in _items(parsed):
        if op in _REPEATS and op is not None:
            _low, high, sub = av
            repeats = high is sre_parse.MAXREPEAT or high > 1
            if repeats and inside_repeat:
                return True
            if _has_nested_repeat(sub, inside_repeat or repeats):
                return True
        elif op is sre_parse.SUBPATTERN:
            if _has_nested_repeat(av[-1], inside_repeat):
                return True
        elif op is sre_parse.BRANCH:
            if any(_has_nested_repeat(branch, inside_repeat) for branch in av[1]):
                return True
        elif op in (sre_parse.ASSERT, sre_parse.ASSERT_NOT):
            if _has_nested_repeat(av[1], inside_repeat):
                return True
    return False


STATUS_PATTERN_RE = re.compile(r"([245])(?:\.(\d{1,3})(?:\.(\d{1,3}))?)?(?:\.[*x])*|\*|")


def parse_status_pattern(pattern):
    """``(level, prefix)`` of a status pattern: ``5.1.1`` -> ``(3, "5.1.1")``, ``5.7.*`` ->
    ``(2, "5.7")``, ``4.*`` -> ``(1, "4")``, '' or ``*`` -> ``(0, "")``; None when invalid."""
    pattern = (pattern or "").strip().lower()
    match = STATUS_PATTERN_RE.fullmatch(pattern)
    if not match:
        return None
    parts = [part for part in match.groups() if part is not None]
    return len(parts), ".".join(parts)


def _code_range(rule):
    """``(low, high)`` of a rule's SMTP code criterion, None when it has none."""
    low, high = rule.smtp_code_min or 0, rule.smtp_code_max or 0
    if not low and not high:
        return None
    return low, high or low


def _code_score(code_range):
    """Specificity of a code range: an exact code beats a narrow range beats a wide one."""
    if code_range is None:
        return 0
    width = code_range[1] - code_range[0]
    return 8 if width == 0 else 6 if width < 10 else 4 if width < 100 else 2


# ---- literal pre-filter: substrings one of which any match of a rule's regex must contain ----

_LITERAL_REPEATS = {
    sre_constants.MAX_REPEAT,
    sre_constants.MIN_REPEAT,
    getattr(sre_constants, "POSSESSIVE_REPEAT", sre_constants.MAX_REPEAT),
}


def _item_literals(op, av):
    """Literal alternatives required by one parsed regex item, None when it requires none."""
    if op == sre_constants.SUBPATTERN:
        return _sequence_literals(av[-1])
    if op == getattr(sre_constants, "ATOMIC_GROUP", None):
        return _sequence_literals(av)
    if op in _LITERAL_REPEATS and av[0] >= 1:
        return _sequence_literals(av[2])
    if op == sre_constants.BRANCH:
        branches = [_sequence_literals(branch) for branch in av[1]]
        if any(branch is None for branch in branches):
            return None
        return frozenset().union(*branches)
    return None


def _sequence_literals(items):
    """The best set of literal alternatives required by a parsed regex sequence, or None.

    "Best" is the set whose shortest literal is the longest (at least 2 characters).
    """
    options, run = [], []
    for op, av in [*_items(items), (None, None)]:
        if op == sre_constants.LITERAL:
            run.append(chr(av))
            continue
        if len(run) > 1:
            options.append(frozenset({"".join(run).lower()}))
        run = []
        if op is not None:
            found = _item_literals(op, av)
            if found:
                options.append(found)
    options = [option for option in options if min(map(len, option)) >= 2]
    return max(options, key=lambda option: min(map(len, option)), default=None)


def required_literals(pattern):
    """Lower-case substrings one of which every match of ``pattern`` contains, or None.

    Used to skip running a rule's regex on texts that cannot match (a fast ``in`` test).
    """
    try:
        return _sequence_literals(_parsed(pattern))
    except (re.error, RecursionError, TypeError, ValueError, IndexError):
        return None


#: what a rule's regex becomes when it cannot be compiled after all (a look-behind of
#: variable width is seen by compiling only): it never matches
NEVER = re.compile(r"(?!)")


class _Compiled:
    """A rule ready for matching (internal). Its regex is compiled the first time a text
    holds one of its literals (most texts hold none: compiling them all cost more than
    classifying a mailbox of bounces)."""

    __slots__ = (
        "_regex",
        "code_range",
        "literals",
        "pattern",
        "rule",
        "score",
        "status_level",
        "status_prefix",
    )

    def __init__(self, rule, status, code_range, literals):
        self.rule = rule
        self.pattern = rule.diagnostic_regex or None
        self.status_level, self.status_prefix = status
        self.code_range = code_range
        #: sorted literals one of which the lower-cased text must hold, or None
        self.literals = literals
        self.score = (
            (SCORE_PROVIDER if rule.provider else 0)
            + (SCORE_REGEX if self.pattern else 0)
            + SCORE_STATUS.get(self.status_level, 0)
            + _code_score(code_range)
        )
        self._regex = None

    def matches(self, code, text, lower):
        """Whether the code and text criteria match (status and provider are pre-filtered).

        :param lower: ``text.lower()``, for the literal pre-filter
        """
        if self.code_range is not None and (
            code is None or not self.code_range[0] <= code <= self.code_range[1]
        ):
            return False
        if self.pattern is None:
            return True
        # (``map`` of the bound ``__contains__``: no Python frame per literal)
        if self.literals is not None and not any(map(lower.__contains__, self.literals)):
            return False
        return self.regex.search(text) is not None

    @property
    def regex(self):
        """The compiled regex (compiled once, when first needed, from the parsed form the
        checks and the literals were read from: the pattern is not parsed again)."""
        if self._regex is None:
            try:
                self._regex = sre_compile.compile(_parsed(self.pattern), IGNORECASE)
            except (re.error, RecursionError, OverflowError, ValueError):
                self._regex = NEVER
        return self._regex


def _compile_rule(rule):
    """``(_Compiled, None)`` or ``(None, error message)`` for one rule."""
    if rule.category not in CATEGORIES:
        return None, f"{rule.key}: unknown category {rule.category!r}"
    if rule.permanence not in PERMANENCES:
        return None, f"{rule.key}: unknown permanence {rule.permanence!r}"
    status = parse_status_pattern(rule.status_pattern)
    if status is None:
        return None, f"{rule.key}: invalid status pattern {rule.status_pattern!r}"
    literals = None
    if rule.diagnostic_regex:
        error = _pattern_error(rule.diagnostic_regex)
        if error:
            return None, f"{rule.key}: invalid diagnostic pattern: {error}"
        literals = required_literals(rule.diagnostic_regex)
        literals = tuple(sorted(literals)) if literals else None
    return _Compiled(rule, status, _code_range(rule), literals), None
