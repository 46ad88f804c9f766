"""Public endpoints under bad input: forged, truncated, replayed and oversized tokens
and ids, the token of one recipient on another's id, odd HTTP methods, odd encodings
(percent-encoded invalid UTF-8, NUL bytes, non-ASCII, overlong segments), junk query
strings and junk bodies. Explicit cases for each category, then hypothesis.

After every request: never a 500, never a traceback in the body, and no record
changed (tracking events and states, blacklist entries and their chatter, mailing
traces, link clicks, list subscriptions, recipients' tags) unless the request was a
genuine one, whose effect is then checked exactly.

Documented responses (every method not listed answers 405 on the addon's routes;
OPTIONS, which Odoo's router lets through to every route, answers 204 with ``Allow``
and records nothing on the addon's routes and on core's pixel and short link):

* addon open pixel ``/mail/mmd/open/<id>/<token>/blank.gif`` (GET, HEAD): 200 and
  the same GIF bytes and headers for any id and token that fit one path segment each;
  only a genuine token records an open (each replay one more open).
* addon click ``/mail/mmd/click/<id>/<link>/<token>`` (GET, HEAD): a genuine token
  302 to the URL stored for the link, and only there (each replay one more click);
  anything else 404, never a redirect.
* addon one-click unsubscribe ``/mail/mmd/unsubscribe_oneclick/<id>/<token>``: POST
  with a genuine token 200 ``OK``, replays too (one blacklist entry, one evidence, the
  first date kept); GET the confirmation page (200); a bad token 404 (GET, HEAD, POST).
* addon unsubscribe page ``/mail/mmd/unsubscribe/<id>/<token>``: GET 200 page, POST
  200 done page (blocks the address); a bad token 404 (GET, HEAD, POST).
* core's mass-mailing pixel ``/mail/track/<mail_id>/<token>/blank.gif`` (the addon
  filters machine opens): genuine 200 GIF; bad token (forged, other mail's, non-ASCII,
  10 kB) or out-of-range id 401; an id that is not a number 404; POST, PUT, DELETE,
  PATCH 400 (Odoo's CSRF check).
* core's short link ``/r/<code>/m/<trace_id>`` (the addon filters machine clicks):
  known code 301 to its URL; unknown code (NUL byte included) 404; a trace id out of
  range or not positive 404; POST, PUT, DELETE, PATCH 400 (CSRF).
* core's ``/mailing/<id>/unsubscribe`` (GET) and ``.../unsubscribe_oneclick`` (POST)
  (the addon tags the unsubscriber): genuine 200; a bad token, another recipient's,
  an unknown or out-of-range mailing 418 (core's error page for its 401); no token,
  no e-mail or mailing 0 as a public user 400.
* core's ``/mailing/blocklist/add`` (JSON-RPC, the addon tags the unsubscriber):
  genuine ``true``; bad token, unknown or out-of-range mailing, malformed document
  id or e-mail ``"unauthorized"``; missing or malformed mailing id ``"error"``; never a
  JSON-RPC error (which would carry a traceback).
* a request line over 64 kB (a 1 MB token in the path or the query): Odoo's HTTP
  server closes the connection without an answer (see ``assert_line_too_long``);
  1 MB bodies get the answer of their URL.
"""

import json
from datetime import timedelta
from urllib.parse import quote
from urllib.parse import urlencode
from urllib.parse import urlsplit

from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from requests.exceptions import ConnectionError as RequestsConnectionError

from odoo import fields
from odoo.tests import HttpCase
from odoo.tests import tagged
from odoo.tools import mute_logger

from ..models.mail_tracking_email import PIXEL_GIF
from ..tools import tracking_token
from .common import DeliveryCommon

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
TEN_KB = 10 * 1024
ONE_MB = 1024 * 1024
#: methods no public endpoint of the addon accepts
ODD_METHODS = ("PUT", "DELETE", "PATCH", "TRACE")
#: methods for which Odoo wants a CSRF token on a route that does not turn it off
CSRF_METHODS = ("POST", "PUT", "DELETE", "PATCH")
#: what a traceback leaves in a body
TRACEBACK_MARKS = (b"Traceback (most recent call last)", b'File "/', b"psycopg2.")
#: loggers that report refused requests (CSRF, ignored arguments) as warnings
QUIET = ("odoo.http", "odoo.addons.base.models.ir_http", "werkzeug")
#: hypothesis examples of each fuzz test
EXAMPLES = 300
FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def pct(raw):
    """Percent-encode every byte of ``raw`` (bytes): any byte reaches the server as is."""
    return "".join(f"%{byte:02X}" for byte in raw)


#: one path segment as a client may send it: text (non-ASCII, NUL, controls) UTF-8
#: percent-encoded, or raw bytes (invalid UTF-8 included) percent-encoded; never empty,
#: never a "/" (the segment would become two) nor a dot segment (clients remove them)
SEGMENT = st.one_of(
    st.text(
        st.characters(blacklist_characters="/", blacklist_categories=("Cs",)),
        min_size=1,
        max_size=80,
    )
    .filter(lambda text: text not in (".", ".."))
    .map(lambda text: quote(text, safe="")),
    st.binary(min_size=1, max_size=80).filter(lambda raw: b"/" not in raw).map(pct),
    st.sampled_from(["0", "-1", "1.5", "1e3", "0x10", "²", "١٢", "99999999999999999999"]),
)
#: a junk query string (keys and values of any bytes, repeated keys)
QUERY = st.lists(st.tuples(st.binary(max_size=20), st.binary(max_size=40)), max_size=4).map(
    lambda pairs: "&".join(f"{pct(key)}={pct(value)}" for key, value in pairs)
)
#: a junk body with a content type that does not match it
BODY = st.tuples(
    st.sampled_from(
        [
            "application/json",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "text/plain; charset=utf-7",
            "application/octet-stream",
            "image/gif",
        ]
    ),
    st.binary(max_size=300),
)


def mutations(token):
    """Forged and truncated variants of a genuine ``token`` (hex string)."""
    flipped = token[:-1] + ("0" if token[-1] != "0" else "1")
    variants = [
        flipped,
        token[:-1],
        token[:32],
        token[1:],
        token + "0",
        token.upper(),
        token[::-1],
        token + "%00",
        token[:-2] + "%00" + token[-1],
        token[:-1] + "%C3%A9",
        token[:-1] + "%FF",
        "0" * 64,
        "x" * TEN_KB,
    ]
    return [variant for variant in variants if variant != token]


@tagged("post_install", "-at_install", "mass_mailing_delivery")
class TestEndpointsFuzz(DeliveryCommon, HttpCase):
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.alice, cls.bob = cls.create_partners(
            ["alice@customer.example", "bob@customer.example"], name_prefix="Customer"
        )
        an_hour_ago = fields.Datetime.now() - timedelta(hours=1)
        # two tracked document e-mails, as mail.mail creates them when they leave
        cls.track_a, cls.track_b = (
            cls.env["mail.tracking.email"]
            .sudo()
            .create(
                [
                    {
                        "email": partner.email,
                        "partner_id": partner.id,
                        "model": "res.partner",
                        "res_id": partner.id,
                        "document_name": partner.name,
                        "subject": "Your document",
                        "state": "sent",
                        "sent_date": an_hour_ago,
                    }
                    for partner in (cls.alice, cls.bob)
                ]
            )
        )
        cls.link_a, cls.link_b = (
            cls.env["mail.tracking.link"]
            .sudo()
            .create(
                [
                    {"tracking_email_id": cls.track_a.id, "url": "https://pay.example.com/a"},
                    {"tracking_email_id": cls.track_b.id, "url": "https://pay.example.com/b"},
                ]
            )
        )
        # a mass mailing sent to both, with its traces and its short link
        cls.mailing = cls.env["mailing.mailing"].create(
            {
                "name": "Fuzz",
                "subject": "Fuzz",
                "body_html": "<p>Hello</p>",
                "mailing_model_id": cls.env["ir.model"]._get_id("res.partner"),
                "mailing_domain": [("id", "in", (cls.alice | cls.bob).ids)],
                "email_from": "martial.marketing@test.mycompany.com",
                "state": "done",
                "sent_date": an_hour_ago,
            }
        )
        cls.trace_a, cls.trace_b = cls.env["mailing.trace"].create(
            [
                {
                    "mass_mailing_id": cls.mailing.id,
                    "model": "res.partner",
                    "res_id": partner.id,
                    "email": partner.email,
                    "mail_mail_id_int": 987650 + index,
                    "trace_status": "sent",
                    "sent_datetime": an_hour_ago,
                }
                for index, partner in enumerate((cls.alice, cls.bob))
            ]
        )
        cls.short_link = cls.env["link.tracker"].create(
            {
                "url": "https://www.example.com/offer",
                "title": "Offer",
                "mass_mailing_id": cls.mailing.id,
            }
        )
        cls.code = cls.short_link.code
        cls.secret = cls.env["ir.config_parameter"].sudo().get_param("database.secret")

    # ------------------------------------------------------------
    # HELPERS
    # ------------------------------------------------------------

    def sign(self, purpose, *ids):
        return tracking_token.sign(self.secret, purpose, *ids)

    def open_path(self, ref, token):
        return f"/mail/mmd/open/{ref}/{token}/blank.gif"

    def click_path(self, ref, link_ref, token):
        return f"/mail/mmd/click/{ref}/{link_ref}/{token}"

    def oneclick_path(self, ref, token):
        return f"/mail/mmd/unsubscribe_oneclick/{ref}/{token}"

    def page_path(self, ref, token):
        return f"/mail/mmd/unsubscribe/{ref}/{token}"

    def core_pixel_path(self, mail_id, token=None):
        if token is None:
            token = self.env["mail.mail"]._generate_mail_recipient_token(mail_id)
        return f"/mail/track/{mail_id}/{token}/blank.gif"

    def mailing_token(self, partner, mailing=None):
        return (mailing or self.mailing)._generate_mailing_recipient_token(
            partner.id, partner.email
        )

    def mailing_query(self, partner, **overrides):
        params = {
            "document_id": partner.id,
            "email": partner.email,
            "hash_token": self.mailing_token(partner),
            **overrides,
        }
        return urlencode({key: value for key, value in params.items() if value is not None})

    def snapshot(self):
        """What no refused request may change, read fresh from the database."""
        self.env.flush_all()
        self.env.invalidate_all()
        env = self.env(context={"active_test": False}, su=True)

        def rows(model, fnames, domain=()):
            return env[model].search_read(list(domain), fnames, order="id")

        return {
            "events": rows("mail.tracking.event", ["tracking_email_id", "mailing_trace_id"]),
            "trackings": rows(
                "mail.tracking.email",
                ["state", "first_open_date", "first_click_date", "unsubscribe_date"],
            ),
            "blacklist": rows(
                "mail.blacklist",
                ["email", "active", "block_reason", "block_date", "block_evidence"],
            ),
            "blacklist_messages": rows(
                "mail.message", ["body"], [("model", "=", "mail.blacklist")]
            ),
            "traces": rows(
                "mailing.trace", ["trace_status", "open_datetime", "links_click_datetime"]
            ),
            "clicks": rows("link.tracker.click", ["link_id", "mailing_trace_id"]),
            "subscriptions": rows("mailing.subscription", ["opt_out"]),
            "tags": rows(
                "res.partner", ["category_id"], [("id", "in", (self.alice | self.bob).ids)]
            ),
        }

    def request(self, method, path, data=None, headers=None):
        """One request as a mail client or a bot sends it, without a session cookie.

        ``url_open`` knows GET, HEAD and POST only: the other methods go through the
        same ``requests`` session (``self.opener``) that it uses.
        """
        headers = {"User-Agent": FIREFOX, **(headers or {})}
        self.opener.cookies.clear()
        if method == "GET":
            return self.url_open(path, headers=headers, allow_redirects=False)
        if method == "HEAD":
            return self.url_open(path, headers=headers, head=True)
        if method == "POST" and data:
            return self.url_open(path, data=data, headers=headers, allow_redirects=False)
        return self.opener.request(
            method,
            self.base_url() + path,
            data=data,
            headers=headers,
            timeout=30,
            allow_redirects=False,
        )

    def assert_answer(self, response, status, label):
        """``status`` (an int or a tuple of allowed ints), no traceback in the body."""
        allowed = status if isinstance(status, tuple) else (status,)
        self.assertIn(response.status_code, allowed, f"{label}: {response.text[:300]!r}")
        for mark in TRACEBACK_MARKS:
            self.assertNotIn(mark, response.content, label)

    def assert_refused(self, method, path, status, *, data=None, headers=None, check=None):
        """The request answers ``status`` and changes nothing.

        :param check: optional callable(response) with further assertions
        """
        before = self.snapshot()
        with mute_logger(*QUIET):
            response = self.request(method, path, data=data, headers=headers)
        label = f"{method} {path[:200]}"
        self.assert_answer(response, status, label)
        if check:
            check(response)
        self.assertEqual(self.snapshot(), before, f"{label} changed a record")
        return response

    def assert_not_routed(self, path):
        """A path of the wrong shape (a "/" too many, an empty segment) matches no
        route: 404, or werkzeug's redirect to the same path with its slashes merged, on
        this server; never a redirect elsewhere, nothing changed."""
        response = self.assert_refused("GET", path, (404, 301))
        location = response.headers.get("Location", "")
        self.assertFalse(
            location and not location.startswith(("/", self.base_url() + "/")), location
        )
        self.assertNotIn("//", urlsplit(location).path, location)

    def assert_line_too_long(self, path):
        """Odoo's HTTP server drops a request line over 64 kB without an answer (its
        request handler fails writing werkzeug's 414: a core issue); nothing changes
        and the server goes on serving."""
        before = self.snapshot()
        with mute_logger("odoo.service.server"), self.assertRaises(RequestsConnectionError):
            self.request("GET", path)
        self.assertEqual(self.snapshot(), before)
        self.assert_answer(self.request("GET", "/web/health"), 200, "the server goes on")

    def assert_options(self, genuine_path, allowed):
        """OPTIONS on a genuine URL: 204 with the allowed methods, nothing recorded."""
        response = self.assert_refused("OPTIONS", genuine_path, 204)
        self.assertEqual(response.headers.get("Allow"), allowed)
        self.assertFalse(response.content)

    def assert_pixel(self, response):
        self.assertEqual(response.content, PIXEL_GIF)
        self.assertEqual(response.headers["Content-Type"], "image/gif")
        self.assertIn("no-store", response.headers["Cache-Control"])

    def assert_head_pixel(self, response):
        self.assertEqual(response.headers["Content-Type"], "image/gif")
        self.assertEqual(response.headers["Content-Length"], str(len(PIXEL_GIF)))

    def assert_no_redirect(self, response):
        self.assertNotIn("Location", response.headers)

    # ------------------------------------------------------------
    # EXPLICIT CASES: the addon's endpoints
    # ------------------------------------------------------------

    def test_open_pixel_bad_input(self):
        """Same GIF for every bad token and id; nothing recorded; other methods 405."""
        a, b = self.track_a, self.track_b
        good = self.sign("open", a.id)
        paths = [self.open_path(a.id, token) for token in mutations(good)]
        paths += [
            self.open_path(b.id, good),  # Alice's token on Bob's id
            self.open_path(a.id, self.sign("click", a.id, self.link_a.id)),  # other purpose
            self.open_path(a.id, self.sign("unsubscribe", a.id)),
            self.open_path(a.id + 100000, self.sign("open", a.id + 100000)),  # unknown id
            self.open_path("99999999999999999999", good),
            self.open_path("%C2%B2", good),  # a Unicode digit that int() refuses
            self.open_path("%D9%A1", good),  # Arabic-Indic one
            self.open_path(f"{a.id}%00", good),
            self.open_path(f"-{a.id}", good),
            self.open_path(pct("é".encode()) + "%FF%FE", good),
            self.open_path(a.id, "y" * 60000),  # overlong, still under 64 kB
            self.open_path(a.id, good[:-1]) + "?" + "q=" + "%FF" * 3000,
            self.open_path(a.id, good[:-1]) + f"?%00=%00&tracking_ref={a.id}&token={good}",
        ]
        for path in paths:
            self.assert_refused("GET", path, 200, check=self.assert_pixel)
        self.assert_refused("HEAD", paths[0], 200, check=self.assert_head_pixel)
        for method in (*ODD_METHODS, "POST"):
            self.assert_refused(method, self.open_path(a.id, good), 405, data=b"junk")
        self.assert_options(self.open_path(a.id, good), "GET, HEAD")
        # a segment too many or too few is not the pixel route
        self.assert_not_routed(f"/mail/mmd/open/{a.id}/{good}/x/blank.gif")
        self.assert_not_routed(f"/mail/mmd/open/{a.id}//blank.gif")
        self.assert_not_routed(f"/mail/mmd/open/{a.id}/{good[:30]}%2F{good[30:]}/blank.gif")

    def test_click_bad_input(self):
        """404 for every bad token, id or link, never a redirect elsewhere."""
        a, b = self.track_a, self.track_b
        good = self.sign("click", a.id, self.link_a.id)
        paths = [self.click_path(a.id, self.link_a.id, token) for token in mutations(good)]
        paths += [
            self.click_path(b.id, self.link_a.id, good),  # Alice's token on Bob's id
            self.click_path(a.id, self.link_b.id, good),  # ... on Bob's link
            self.click_path(b.id, self.link_a.id, self.sign("click", b.id, self.link_a.id)),
            self.click_path(a.id, self.link_a.id, self.sign("open", a.id)),
            self.click_path(a.id, self.link_a.id + 10**6, self.sign("click", a.id, 10**6)),
            self.click_path("%C2%B2", self.link_a.id, good),
            self.click_path(a.id, "%C2%B2", good),
            self.click_path(a.id, "99999999999999999999", good),
            self.click_path(a.id, self.link_a.id, good + "%00?url=https://evil.example/"),
            self.click_path(a.id, self.link_a.id, "z" * 60000),
        ]
        for path in paths:
            self.assert_refused("GET", path, 404, check=self.assert_no_redirect)
        self.assert_refused("HEAD", paths[0], 404)
        self.assert_not_routed(self.click_path(a.id, "https%3A%2F%2Fevil.example", good))
        self.assert_not_routed(self.click_path(a.id, "", good))
        genuine = self.click_path(a.id, self.link_a.id, good)
        for method in (*ODD_METHODS, "POST"):
            self.assert_refused(method, genuine, 405, data=b"junk")
        self.assert_options(genuine, "GET, HEAD")

    def test_unsubscribe_bad_input(self):
        """Both unsubscribe routes: 404 for bad tokens whatever the method allowed,
        405 for the others; the address is never blocked."""
        a, b = self.track_a, self.track_b
        good = self.sign("unsubscribe", a.id)
        for route in (self.oneclick_path, self.page_path):
            paths = [route(a.id, token) for token in mutations(good)]
            paths += [
                route(b.id, good),  # Alice's token on Bob's id
                route(a.id, self.sign("open", a.id)),
                route(a.id + 100000, self.sign("unsubscribe", a.id + 100000)),
                route("%C2%B2", good),
                route("99999999999999999999", good),
                route(a.id, "w" * 60000),
            ]
            for path in paths:
                for method in ("GET", "POST"):
                    self.assert_refused(
                        method, path, 404, data={"List-Unsubscribe": "One-Click", "reason": "x"}
                    )
            for content_type, body in (
                ("application/json", b'{"List-Unsubscribe": "One-Click"'),
                ("multipart/form-data; boundary=zz", b"--zz\r\nbroken"),
                ("application/x-www-form-urlencoded", b"%FF%00=%C3" * 1000),
            ):
                self.assert_refused(
                    "POST", paths[0], 404, data=body, headers={"Content-Type": content_type}
                )
            for method in ODD_METHODS:
                self.assert_refused(method, route(a.id, good), 405, data=b"junk")
            self.assert_options(route(a.id, good), "GET, HEAD, POST")
            self.assert_refused("HEAD", paths[0], 404)

    def test_oneclick_replays_are_idempotent(self):
        """The mail client retries: one blacklist entry, one evidence, the first date."""
        path = self.oneclick_path(self.track_b.id, self.sign("unsubscribe", self.track_b.id))
        data = {"List-Unsubscribe": "One-Click"}
        response = self.request("POST", path, data=data)
        self.assert_answer(response, 200, path)
        self.assertEqual(response.text, "OK")
        after_first = self.snapshot()
        entry = self.env["mail.blacklist"].search([("email", "=", "bob@customer.example")])
        self.assertEqual(len(entry), 1)
        self.assertEqual(entry.block_reason, "unsubscribed")
        self.assertEqual(len(entry.message_ids.filtered(lambda m: "Blocked" in m.body)), 1)
        for _replay in range(3):
            response = self.request("POST", path, data=data)
            self.assert_answer(response, 200, path)
        # the unsubscribe page of the same e-mail, then the page's form without reason
        page = self.page_path(self.track_b.id, self.sign("unsubscribe", self.track_b.id))
        self.assert_answer(self.request("GET", page), 200, page)
        self.assert_answer(self.request("POST", page, data={"reason": ""}), 200, page)
        self.assertEqual(self.snapshot(), after_first, "a replay changed the entry")
        # a junk body on the genuine URL is still the one request it replays
        response = self.request(
            "POST", path, data=b"\x00\xff" * 500, headers={"Content-Type": "application/json"}
        )
        self.assert_answer(response, 200, path)
        self.assertEqual(self.snapshot(), after_first)

    def test_genuine_replays_count_each_request(self):
        """Replayed genuine opens and clicks: each answered request is one event."""
        a = self.track_a
        pixel = self.open_path(a.id, self.sign("open", a.id))
        click = self.click_path(a.id, self.link_a.id, self.sign("click", a.id, self.link_a.id))
        for _replay in range(3):
            response = self.request("GET", pixel)
            self.assert_answer(response, 200, pixel)
            self.assert_pixel(response)
            response = self.request("GET", click)
            self.assert_answer(response, 302, click)
            self.assertEqual(response.headers["Location"], "https://pay.example.com/a")
        # a NUL byte in the user agent (a raw client): still one event, without the NUL
        response = self.request("GET", pixel, headers={"User-Agent": "Mozilla/5.0\x00 (X11)"})
        self.assert_answer(response, 200, pixel)
        self.env.invalidate_all()
        self.assertEqual((a.open_count, a.click_count, a.state), (4, 3, "clicked"))
        self.assertEqual(a.event_ids[0].user_agent, "Mozilla/5.0 (X11)")
        self.assertEqual(self.link_a.click_count, 3)
        self.assertEqual(self.track_b.event_ids.ids, [], "Bob's e-mail got nothing")

    # ------------------------------------------------------------
    # EXPLICIT CASES: core's routes that the addon changes
    # ------------------------------------------------------------

    def test_core_pixel_bad_input(self):
        mail_id = self.trace_a.mail_mail_id_int
        good = self.env["mail.mail"]._generate_mail_recipient_token(mail_id)
        for token in mutations(good):
            self.assert_refused("GET", self.core_pixel_path(mail_id, token), 401)
        # Alice's token on Bob's mail, unknown and out-of-range mail ids
        self.assert_refused("GET", self.core_pixel_path(self.trace_b.mail_mail_id_int, good), 401)
        self.assert_refused("GET", self.core_pixel_path(99999999999999999999, good), 401)
        self.assert_refused("GET", self.core_pixel_path(987600), 200)  # no trace: no change
        self.assert_refused("GET", self.core_pixel_path(-mail_id, good), 401)
        for ref in ("%C2%B2", "abc", "1%00", "1.0"):
            self.assert_refused("GET", self.core_pixel_path(ref, good), 404)
        for method in CSRF_METHODS:
            self.assert_refused(method, self.core_pixel_path(mail_id), 400, data=b"junk")
        self.assert_options(self.core_pixel_path(mail_id), "GET, HEAD")
        # a genuine open by a crawler whose user agent holds a NUL: one flagged event
        response = self.request(
            "GET", self.core_pixel_path(mail_id), headers={"User-Agent": "bingbot/2.0\x00"}
        )
        self.assert_answer(response, 200, "crawler with a NUL")
        self.assertEqual(response.content, PIXEL_GIF)
        event = self.env["mail.tracking.event"].search([("mailing_trace_id", "=", self.trace_a.id)])
        self.assertEqual((event.user_agent, event.is_machine), ("bingbot/2.0", True))
        self.assertEqual(self.trace_a.trace_status, "sent")

    def test_core_short_link_bad_input(self):
        trace = self.trace_a.id
        for code in (*mutations(self.code), "%C2%B2", "%00", "a" * 60000):
            self.assert_refused("GET", f"/r/{code}/m/{trace}", 404, check=self.assert_no_redirect)
        for ref in ("99999999999999999999", str(2**31), "0", "-1", f"-{trace}"):
            self.assert_refused("GET", f"/r/{self.code}/m/{ref}", 404)
        for ref in ("%C2%B2", "abc", "1.0"):
            self.assert_refused("GET", f"/r/{self.code}/m/{ref}", 404)
        for method in CSRF_METHODS:
            self.assert_refused(method, f"/r/{self.code}/m/{trace}", 400, data=b"junk")
        self.assert_options(f"/r/{self.code}/m/{trace}", "GET, HEAD")

    def test_core_unsubscribe_bad_input(self):
        mailing, alice, bob = self.mailing, self.alice, self.bob
        good = self.mailing_token(alice)
        for route in ("unsubscribe", "unsubscribe_oneclick"):
            method = "GET" if route == "unsubscribe" else "POST"
            base = f"/mailing/{mailing.id}/{route}"
            for token in mutations(good):
                self.assert_refused(
                    method, f"{base}?{self.mailing_query(alice, hash_token=token)}", 418
                )
            refused = {
                # Alice's token with Bob's address or id
                f"{base}?{self.mailing_query(bob, hash_token=good)}": 418,
                f"{base}?{self.mailing_query(alice, document_id=bob.id)}": 418,
                f"{base}?{self.mailing_query(alice, email='%FF%00@x')}": 418,
                f"/mailing/99999999999999999999/{route}?{self.mailing_query(alice)}": 418,
                f"/mailing/{2**31}/{route}?{self.mailing_query(alice)}": 418,
                f"/mailing/{mailing.id + 1000}/{route}?{self.mailing_query(alice)}": 418,
                f"{base}?{self.mailing_query(alice, hash_token=None)}": 400,
                f"{base}?{self.mailing_query(alice, email=None)}": 400,
                f"{base}?{self.mailing_query(alice, hash_token=good[:-1])}&junk=%FF&email=%00": 418,
                f"/mailing/%C2%B2/{route}?{self.mailing_query(alice)}": 404,
            }
            for path, status in refused.items():
                self.assert_refused(method, path, status)
        for verb in ("PUT", "DELETE", "PATCH"):
            self.assert_refused(verb, f"/mailing/{mailing.id}/unsubscribe", 400, data=b"junk")
            self.assert_refused(
                verb, f"/mailing/{mailing.id}/unsubscribe_oneclick", 405, data=b"junk"
            )

    def test_core_unsubscribe_replays_are_idempotent(self):
        path = f"/mailing/{self.mailing.id}/unsubscribe_oneclick?{self.mailing_query(self.bob)}"
        self.assert_answer(
            self.request("POST", path, data={"List-Unsubscribe": "One-Click"}), 200, path
        )
        after_first = self.snapshot()
        entry = self.env["mail.blacklist"].search([("email", "=", "bob@customer.example")])
        self.assertEqual((len(entry), entry.block_reason), (1, "unsubscribed"))
        for _replay in range(3):
            response = self.request("POST", path, data={"List-Unsubscribe": "One-Click"})
            self.assert_answer(response, 200, path)
        self.assertEqual(self.snapshot(), after_first, "a replay changed the entry")

    def blocklist_add(self, params):
        return self.request(
            "POST",
            "/mailing/blocklist/add",
            data=json.dumps({"jsonrpc": "2.0", "method": "call", "id": 1, "params": params}),
            headers={"Content-Type": "application/json"},
        )

    def assert_blocklist_refused(self, params, result):
        before = self.snapshot()
        with mute_logger(*QUIET):
            response = self.blocklist_add(params)
        self.assert_answer(response, 200, repr(params)[:200])
        self.assertEqual(response.json().get("result"), result, repr(params)[:200])
        self.assertEqual(self.snapshot(), before, f"{params!r:.200} changed a record")

    def test_core_blocklist_add_bad_input(self):
        alice = self.alice
        genuine = {
            "mailing_id": self.mailing.id,
            "document_id": alice.id,
            "email": alice.email,
            "hash_token": self.mailing_token(alice),
        }
        for token in mutations(genuine["hash_token"]):
            self.assert_blocklist_refused(dict(genuine, hash_token=token), "unauthorized")
        self.assert_blocklist_refused(dict(genuine, email=self.bob.email), "unauthorized")
        self.assert_blocklist_refused(dict(genuine, hash_token=None), "error")
        for document_id in ("x", ":", [1], {"a": 1}, "1e3", None):
            result = "error" if document_id is None else "unauthorized"
            self.assert_blocklist_refused(dict(genuine, document_id=document_id), result)
        for email in ([alice.email], {"a": 1}, 12, True):
            self.assert_blocklist_refused(dict(genuine, email=email), "unauthorized")
        for mailing_id in ("abc", "1.5", [1], {"a": 1}, "-1", "²", True, 1.0):
            self.assert_blocklist_refused(dict(genuine, mailing_id=mailing_id), "error")
        for mailing_id in (self.mailing.id + 1000, 2**40, -1, "9" * 30):
            self.assert_blocklist_refused(dict(genuine, mailing_id=mailing_id), "unauthorized")

    # ------------------------------------------------------------
    # OVERSIZED REQUESTS
    # ------------------------------------------------------------

    def test_one_megabyte_tokens_and_bodies(self):
        """1 MB in the request line: 414 before Odoo; 1 MB bodies: the documented answer."""
        big = "x" * ONE_MB
        a = self.track_a
        self.assert_line_too_long(self.open_path(a.id, big))
        self.assert_line_too_long(self.click_path(a.id, self.link_a.id, big))
        self.assert_line_too_long(f"/mailing/{self.mailing.id}/unsubscribe?hash_token={big}")
        body = {"List-Unsubscribe": "One-Click", "reason": big}
        self.assert_refused("POST", self.oneclick_path(a.id, "f" * 64), 404, data=body)
        self.assert_refused("POST", self.page_path(a.id, "f" * 64), 404, data=body)
        self.assert_refused(
            "POST",
            self.oneclick_path(a.id, "f" * 64),
            404,
            data=b"\x00" * ONE_MB,
            headers={"Content-Type": "application/json"},
        )
        self.assert_blocklist_refused(
            {"mailing_id": self.mailing.id, "document_id": 1, "email": "a@b.c", "hash_token": big},
            "unauthorized",
        )
        # a genuine page request with a 1 MB reason keeps the first 1000 characters
        response = self.request(
            "POST", self.page_path(a.id, self.sign("unsubscribe", a.id)), data={"reason": big}
        )
        self.assert_answer(response, 200, "1 MB reason")
        entry = self.env["mail.blacklist"].search([("email", "=", a.email)])
        self.assertLess(len(entry.block_evidence), 1200)

    # ------------------------------------------------------------
    # HYPOTHESIS
    # ------------------------------------------------------------

    @FUZZ_SETTINGS
    @given(ref=SEGMENT, token=SEGMENT, query=QUERY, method=st.sampled_from(["GET", "HEAD"]))
    def test_fuzz_open_pixel(self, ref, token, query, method):
        check = self.assert_pixel if method == "GET" else self.assert_head_pixel
        self.assert_refused(method, f"{self.open_path(ref, token)}?{query}", 200, check=check)

    @FUZZ_SETTINGS
    @given(
        ref=SEGMENT | st.just("{a}"),
        link=SEGMENT | st.just("{link}"),
        token=SEGMENT,
        query=QUERY,
    )
    def test_fuzz_click(self, ref, link, token, query):
        ref = ref.format(a=self.track_a.id)
        link = link.format(link=self.link_a.id)
        path = f"{self.click_path(ref, link, token)}?{query}"
        self.assert_refused("GET", path, 404, check=self.assert_no_redirect)

    @FUZZ_SETTINGS
    @given(
        route=st.sampled_from(["unsubscribe_oneclick", "unsubscribe"]),
        ref=SEGMENT | st.just("{a}"),
        token=SEGMENT | st.sampled_from([f"{{good}}{c}" for c in ("0", "%00", "%FF", "")]),
        request=st.tuples(
            st.sampled_from(["GET", "POST", "HEAD", "OPTIONS", *ODD_METHODS]), BODY, QUERY
        ),
    )
    def test_fuzz_unsubscribe(self, route, ref, token, request):
        method, body, query = request
        good = self.sign("unsubscribe", self.track_a.id)
        ref = ref.format(a=self.track_a.id)
        token = token.format(good=good)
        if ref == str(self.track_a.id) and token == good:
            token = good[:-1]  # the genuine URL is tested by the replay test
        content_type, data = body
        status = 405 if method in ODD_METHODS else 204 if method == "OPTIONS" else 404
        path = f"/mail/mmd/{route}/{ref}/{token}?{query}"
        self.assert_refused(
            method, path, status, data=data or None, headers={"Content-Type": content_type}
        )

    @FUZZ_SETTINGS
    @given(
        mail_id=st.integers(min_value=0, max_value=10**22),
        token=SEGMENT,
        user_agent=st.sampled_from([FIREFOX, "Mozilla/5.0 (compatible; bingbot/2.0)", ""]),
    )
    def test_fuzz_core_pixel(self, mail_id, token, user_agent):
        self.assert_refused(
            "GET", self.core_pixel_path(mail_id, token), 401, headers={"User-Agent": user_agent}
        )

    @FUZZ_SETTINGS
    @given(
        code=SEGMENT,
        trace_id=st.integers(min_value=0, max_value=10**22),
        user_agent=st.sampled_from([FIREFOX, "Mozilla/5.0 (compatible; bingbot/2.0)"]),
    )
    def test_fuzz_core_short_link(self, code, trace_id, user_agent):
        if code == self.code:
            code += "0"
        self.assert_refused(
            "GET", f"/r/{code}/m/{trace_id}", 404, headers={"User-Agent": user_agent}
        )

    @FUZZ_SETTINGS
    @given(
        route=st.sampled_from(["unsubscribe", "unsubscribe_oneclick"]),
        mailing_ref=st.integers(min_value=0, max_value=10**22).map(str) | st.just("{mailing}"),
        token=SEGMENT,
        email=st.sampled_from(["alice@customer.example", "bob@customer.example"]) | SEGMENT,
        document_id=st.sampled_from(["{alice}", "{bob}"]) | SEGMENT,
    )
    def test_fuzz_core_unsubscribe(self, route, mailing_ref, token, email, document_id):
        mailing_ref = mailing_ref.format(mailing=self.mailing.id)
        document_id = document_id.format(alice=self.alice.id, bob=self.bob.id)
        # the query as a mail client sends it: already percent-encoded values
        query = f"document_id={document_id}&email={email}&hash_token={token}"
        method = "GET" if route == "unsubscribe" else "POST"
        status = 400 if int(mailing_ref) == 0 else 418  # no mailing: core's bad request
        self.assert_refused(method, f"/mailing/{mailing_ref}/{route}?{query}", status)

    @FUZZ_SETTINGS
    @given(
        mailing_id=st.one_of(
            st.none(),
            st.integers(),
            st.text(max_size=30),
            st.booleans(),
            st.floats(allow_nan=False),
            st.lists(st.integers(), max_size=3),
            st.just("{mailing}"),
        ),
        document_id=st.one_of(st.none(), st.integers(), st.text(max_size=30)),
        email=st.one_of(st.none(), st.text(max_size=40), st.just("alice@customer.example")),
        hash_token=st.one_of(st.none(), st.text(max_size=70)),
    )
    def test_fuzz_core_blocklist_add(self, mailing_id, document_id, email, hash_token):
        if mailing_id == "{mailing}":
            mailing_id = self.mailing.id
        params = {
            "mailing_id": mailing_id,
            "document_id": document_id,
            "email": email,
            "hash_token": hash_token,
        }
        before = self.snapshot()
        with mute_logger(*QUIET):
            response = self.blocklist_add(params)
        self.assert_answer(response, 200, repr(params))
        self.assertIn(response.json().get("result"), ("error", "unauthorized"), repr(params))
        self.assertEqual(self.snapshot(), before)
