"""Tell machine opens and clicks from human ones.

Three rules, applied in this order; the first that matches gives the reason:

``apple_mpp``
    Apple Mail Privacy Protection fetches every remote image of every message
    through Apple's proxies as soon as the message is delivered, whether or not
    it is read. Those fetches come from Apple's egress ranges (17.0.0.0/8, the
    network Apple owns) with a generic ``Mozilla/5.0`` user agent that names no
    browser or mail client (no ``Safari``, ``Chrome``, ``Firefox`` ... token).
``crawler``
    The user agent names a known crawler, link scanner or security gateway
    (Googlebot, bingbot, Barracuda, Proofpoint, Mimecast, curl, python-requests...)
    or is empty.
``scanner_delay``
    A click that arrives within ``scanner_delay`` seconds (default 10) of the
    delivery of the message: security gateways follow every link of an incoming
    message before the recipient sees it; a person needs longer to open the message
    and click.

Everything else is human. Pure Python: no ORM, unit-tested without a database.
"""

import ipaddress

APPLE_NETWORKS = (ipaddress.ip_network("17.0.0.0/8"),)

BROWSER_TOKENS = (
    "safari",
    "chrome",
    "firefox",
    "edg/",
    "opr/",
    "thunderbird",
    "outlook",
    "microsoft office",
    "googleimageproxy",
    "yahoomailproxy",
)

CRAWLER_TOKENS = (
    "bot",
    "crawler",
    "spider",
    "slurp",
    "curl/",
    "wget/",
    "python-requests",
    "python-urllib",
    "go-http-client",
    "java/",
    "okhttp",
    "libwww-perl",
    "headlesschrome",
    "phantomjs",
    "barracuda",
    "proofpoint",
    "mimecast",
    "symantec",
    "trendmicro",
    "forcepoint",
    "safelinks",
    "linkscanner",
    "scanner",
)

DEFAULT_SCANNER_DELAY = 10


def _is_apple_ip(ip):
    try:
        address = ipaddress.ip_address((ip or "").strip())
    except ValueError:
        return False
    return any(address in network for network in APPLE_NETWORKS)


def classify(user_agent, ip, event_type="open", seconds_since_sent=None, scanner_delay=None):
    """Decide whether an open or click was made by a machine.

    :param user_agent: the request's User-Agent header ('' or None when absent)
    :param ip: the client address (string; anything unparsable is not an Apple address)
    :param event_type: "open" or "click"
    :param seconds_since_sent: seconds between the delivery and this event (None: unknown)
    :param scanner_delay: clicks faster than this many seconds are a scanner's (default 10)
    :return: ``(is_machine, reason)``; reason is "apple_mpp", "crawler",
        "scanner_delay" or "" for a human
    """
    agent = (user_agent or "").strip().lower()
    names_browser = any(token in agent for token in BROWSER_TOKENS)
    if _is_apple_ip(ip) and not names_browser:
        return True, "apple_mpp"
    if not agent or (any(token in agent for token in CRAWLER_TOKENS) and not _is_mail_proxy(agent)):
        return True, "crawler"
    delay = DEFAULT_SCANNER_DELAY if scanner_delay is None else scanner_delay
    if event_type == "click" and seconds_since_sent is not None and 0 <= seconds_since_sent < delay:
        return True, "scanner_delay"
    return False, ""


def _is_mail_proxy(agent):
    # Gmail (GoogleImageProxy) and Yahoo fetch images through proxies when the recipient opens the
    # message: those are real opens even though the agent looks unusual.
    return "googleimageproxy" in agent or "yahoomailproxy" in agent
