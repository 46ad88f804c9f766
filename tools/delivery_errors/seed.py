"""Matchers cached per registry version, and the seed data read without a database."""

import os
import threading
import xml.etree.ElementTree as ET
from collections import OrderedDict

from .base import DATA_FILE
from .base import DEFAULT_PRIORITY
from .base import Rule
from .matcher import Matcher

# CACHE AND SEED DATA
# ------------------------------------------------------------

_CACHE = OrderedDict()
_CACHE_LOCK = threading.Lock()
#: compiled matchers kept (one per version key, e.g. one per database)
CACHE_SIZE = 16


def get_matcher(version, load_rules):
    """The compiled :class:`Matcher` for ``version``; ``load_rules()`` is called only for a
    version not seen yet (or evicted). Thread-safe.

    :param version: hashable key identifying the rule set (e.g. ``(dbname, sequence)``)
    :param load_rules: callable returning an iterable of :class:`Rule`
    """
    with _CACHE_LOCK:
        matcher = _CACHE.get(version)
        if matcher is not None:
            _CACHE.move_to_end(version)
            return matcher
        matcher = Matcher(load_rules())
        _CACHE[version] = matcher
        while len(_CACHE) > CACHE_SIZE:
            _CACHE.popitem(last=False)
        return matcher


def clear_cache():
    """Forget every compiled matcher."""
    with _CACHE_LOCK:
        _CACHE.clear()


INT_FIELDS = ("smtp_code_min", "smtp_code_max", "priority")
TEXT_FIELDS = ("category", "permanence", "status_pattern", "diagnostic_regex", "provider", "name")


def _record_to_rule(record):
    """The :class:`Rule` of one ``<record model="mail.delivery.error">`` element."""
    values = {field.get("name"): (field.text or "") for field in record.iter("field")}
    kwargs = {name: values.get(name, "") for name in TEXT_FIELDS}
    for name in INT_FIELDS:
        kwargs[name] = int(values.get(name) or 0)
    if "priority" not in values:
        kwargs["priority"] = DEFAULT_PRIORITY
    return Rule(key=record.get("id"), **kwargs)


def load_rules_from_xml(path=DATA_FILE):
    """The rules of a registry data file (Odoo XML), keyed by XML id.

    :param path: the ``.xml`` file
    :rtype: list[Rule]
    """
    tree = ET.parse(path)
    return [
        _record_to_rule(record)
        for record in tree.iter("record")
        if record.get("model") == "mail.delivery.error"
    ]


def default_matcher():
    """The matcher of the addon's own seed data (no database needed), cached."""
    try:
        mtime = os.stat(DATA_FILE).st_mtime_ns
    except OSError:
        mtime = None
    return get_matcher(("xml", DATA_FILE, mtime), lambda: load_rules_from_xml(DATA_FILE))


# ------------------------------------------------------------
