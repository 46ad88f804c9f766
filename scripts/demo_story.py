"""The story of ``make demo``, told by doing it for real, never by writing final states.

Three steps, run by scripts/demo.sh once, when it creates the demo database:

``send`` (inside ``odoo-bin shell``, where ``env`` exists)
    a user blocks by hand the address of a contact who asked by phone for no more
    e-mails (the blacklist form's Save), then sends the demo mailing "Autumn offer"
    through Odoo's mail queue to the loopback SMTP server, which refuses some recipients
    with real reply codes, and e-mails two invoices from their chatter;
``visit`` (plain Python, Odoo serving on --url)
    some recipients "read" the mail kept by the loopback server in .dev/mailboxes: their
    mail client loads the open pixel, one clicks the link; Hans Schmidt follows the
    mailing's unsubscribe link in his browser, confirms on core's page, then, on the
    subscription page its "Manage Subscriptions" button opens, picks the reason "I
    receive too many emails from this list" and sends it as the page's script does
    (JSON-RPC ``/mailing/feedback``): he is blocked as *Unsubscribed* by the autumn offer,
    with his reason as evidence, and the later mailings ignore him;
``bounces`` (inside ``odoo-bin shell``)
    the remote servers answer later: real delivery reports (RFC 3464), a spam complaint
    (RFC 5965), a delay notice and an out-of-office reply go through Odoo's mail gateway
    (``message_process``) as the bounce mailbox would deliver them, among them our own
    relay's report that a domain does not exist (Invalid address); two later mailings
    soft-bounce again for the contact whose mailbox is full, the third in a row blocks
    her (Too many soft bounces); a user adds a registry entry for an error the registry
    only knew generically, which re-labels the failure it explains.

Usage: printf 'STEP = "send"\\n' | cat - scripts/demo_story.py | odoo-bin shell ...
       python3 scripts/demo_story.py visit --url http://localhost:8069 --mailboxes .dev/mailboxes
"""

import argparse
import json
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from email import message_from_bytes
from email import policy
from http.cookiejar import CookieJar
from pathlib import Path

from lxml import html as lxml_html
from markupsafe import Markup

MAIL_CLIENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0"
)
#: the browser a recipient opens the unsubscribe link in
BROWSER = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"
#: seconds after delivery before which a click is taken for a link scanner's (bot filter)
SCANNER_SECONDS = 12

#: who does what with the mail they received
VISITS = {
    "giulia.rossi@example.com": ("open", "click"),
    "jonas.becker@example.org": ("open",),
    "piotr.kowalski@example.com": ("open", "click"),
    "hans.schmidt@example.de": ("open", "unsubscribe"),
}
#: the opt-out reason the unsubscribing recipient picks on core's page (a pattern of its
#: label: core's "I receive too many emails from this list")
UNSUBSCRIBE_REASON = r"too many e-?mails"

DSN = (
    "From: MAILER-DAEMON@{mta} (Mail Delivery System)\r\nTo: {bounce}\r\n"
    "Subject: {subject}\r\nMessage-Id: <{tag}.{trace}@{mta}>\r\nAuto-Submitted: auto-replied\r\n"
    "MIME-Version: 1.0\r\n"
    'Content-Type: multipart/report; report-type=delivery-status; boundary="DSN"\r\n\r\n'
    "--DSN\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{human}\r\n\r\n"
    "--DSN\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; {mta}\r\n\r\n"
    "Final-Recipient: rfc822; {rcpt}\r\nAction: {action}\r\nStatus: {status}\r\n"
    "Remote-MTA: dns; {mta}\r\nDiagnostic-Code: smtp; {diagnostic}\r\n\r\n"
    "--DSN\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-Id: {message_id}\r\n"
    "To: {rcpt}\r\nSubject: {original_subject}\r\n\r\n--DSN--\r\n"
)

ARF = (
    "From: feedback-loop@fbl.example.net\r\nTo: {bounce}\r\nSubject: Complaint about message\r\n"
    "Message-Id: <arf.{trace}@fbl.example.net>\r\nMIME-Version: 1.0\r\n"
    'Content-Type: multipart/report; report-type=feedback-report; boundary="ARF"\r\n\r\n'
    "--ARF\r\nContent-Type: text/plain\r\n\r\nA recipient marked this message as spam.\r\n\r\n"
    "--ARF\r\nContent-Type: message/feedback-report\r\n\r\nFeedback-Type: abuse\r\n"
    "User-Agent: ExampleFBL/1.0\r\nVersion: 1\r\nOriginal-Rcpt-To: <{rcpt}>\r\n"
    "Source-IP: 192.0.2.25\r\n\r\n"
    "--ARF\r\nContent-Type: message/rfc822\r\n\r\nMessage-Id: {message_id}\r\nTo: {rcpt}\r\n"
    "Subject: Our autumn offer\r\n\r\nHello\r\n\r\n--ARF--\r\n"
)

AUTO_REPLY = (
    "From: {rcpt}\r\nTo: {bounce}\r\nSubject: Out of office: Our autumn offer\r\n"
    "Message-Id: <ooo.{trace}@example.com>\r\nIn-Reply-To: {message_id}\r\n"
    "Auto-Submitted: auto-replied\r\nX-Autoreply: yes\r\n\r\n"
    "I am out of the office until Monday and will read your message when I am back.\r\n"
)

#: (recipient, template, values) of the answers that come back to the bounce mailbox
ANSWERS = [
    (
        "sofia.lopez@example.com",
        DSN,
        {
            "mta": "mx.example.com",
            "subject": "Undelivered Mail Returned to Sender",
            "action": "failed",
            "status": "5.1.1",
            "diagnostic": "550-5.1.1 The email account that you tried to reach does not exist.",
        },
    ),
    (
        "lena.fischer@example.de",
        DSN,
        {
            "mta": "mx.example.de",
            "subject": "Unzustellbar: Our autumn offer",
            "action": "failed",
            "status": "4.2.2",
            "diagnostic": "452 4.2.2 Postfach voll - mailbox full, quota exceeded",
        },
    ),
    (
        "jonas.becker@example.org",
        DSN,
        {
            "mta": "mx.example.org",
            "subject": "Delayed Mail (still being retried)",
            "action": "delayed",
            "status": "4.4.1",
            "diagnostic": "451 4.4.1 Connection timed out, will retry for 5 days",
        },
    ),
    (
        "tom.baker@example.co.uk",
        DSN,
        {
            "mta": "mx.example.co.uk",
            "subject": "Undeliverable: Our autumn offer",
            "action": "failed",
            "status": "5.0.0",
            "diagnostic": "550 5.0.0 Mailbox migrated to the new mail platform (ref MIG-2026)",
        },
    ),
    (
        # our own relay could not find the domain: the address cannot exist
        "paul.durand@example-shop.invalid",
        DSN,
        {
            "mta": "smtp.mycompany.example.com",
            "subject": "Undelivered Mail Returned to Sender",
            "action": "failed",
            "status": "5.1.2",
            "diagnostic": "550 5.1.2 <paul.durand@example-shop.invalid>: Recipient address "
            "rejected: Domain not found",
        },
    ),
    ("claire.martin@example.net", ARF, {}),
    ("giulia.rossi@example.com", AUTO_REPLY, {}),
]


#: the later mailings, each soft-bounced again for the contact whose mailbox is full
FOLLOW_UPS = [
    "mass_mailing_delivery.mailing_demo_winter_sale",
    "mass_mailing_delivery.mailing_demo_new_year",
]
#: the soft bounce each of them gets (the mailbox is still full)
FULL_MAILBOX = (
    "lena.fischer@example.de",
    {
        "mta": "mx.example.de",
        "subject": "Unzustellbar: {original_subject}",
        "action": "failed",
        "status": "4.2.2",
        "diagnostic": "452 4.2.2 Postfach voll - mailbox full, quota exceeded",
    },
)
#: the contact who asked by phone for no more e-mails, blocked by hand before the mailing
MANUAL_BLOCK = (
    "peter.weber@example.ch",
    "Asked by phone on the order line to receive no more marketing e-mails.",
)

#: invoices e-mailed from their chatter: (customer's xml id, what happens to the e-mail)
INVOICES = [
    ("mass_mailing_delivery.partner_demo_delivered_1", "opened and clicked"),
    ("mass_mailing_delivery.partner_demo_unknown_user", "refused: 550 5.1.1"),
]


#: seconds the story waits for the running Odoo's crons to send a mailing (0: the story
#: sends it itself, as in the tests, where no cron runs)
CRON_WAIT = 180


def send_mailing(env, mailing):
    """Launch ``mailing`` as its Send button does; the running Odoo's crons send it (the
    story processing the queue at the same time would conflict with them), else, when no
    cron did within ``CRON_WAIT`` seconds, the story empties the queues itself."""
    mailing.action_launch()
    env.cr.commit()
    deadline = time.time() + CRON_WAIT
    while time.time() < deadline:
        time.sleep(2)
        env.cr.rollback()  # a new transaction sees what the crons committed
        env.invalidate_all()
        outgoing = env["mail.mail"].search_count(
            [("mailing_id", "=", mailing.id), ("state", "=", "outgoing")]
        )
        if mailing.state == "done" and not outgoing:
            break
    else:
        env["mailing.mailing"]._process_mass_mailing_queue()
        env["mail.mail"].process_email_queue()
        env.cr.commit()
    print(f"demo: mailing {mailing.name!r} sent ({len(mailing.mailing_trace_ids)} recipients)")


def step_send(env):
    """Block an address by hand, then send the demo mailing, and e-mail two invoices,
    through Odoo's queue to the loopback SMTP server."""
    # Email Marketing > Configuration > Blacklisted Email Addresses > New, then Save
    email, evidence = MANUAL_BLOCK
    env["mail.blacklist"].create({"email": email, "block_evidence": evidence})
    env.cr.commit()
    print(f"demo: {email} blocked by hand")
    send_mailing(env, env.ref("mass_mailing_delivery.mailing_demo_autumn_offer"))
    if "account.move" not in env:
        return
    for xmlid, story in INVOICES:
        customer = env.ref(xmlid)
        invoice = env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": customer.id,
                "invoice_user_id": env.ref("base.user_admin").id,
                "invoice_line_ids": [
                    (0, 0, {"name": "Autumn consulting", "quantity": 1, "price_unit": 450.0})
                ],
            }
        )
        invoice.action_post()
        # e-mailed from the chatter, as a salesperson does (the invoice template is tracked)
        invoice.message_post(
            body=Markup(
                "<p>Dear customer, here is your invoice. "
                '<a href="https://www.example.com/pay">Pay online</a></p>'
            ),
            subject=f"Invoice {invoice.name}",
            partner_ids=customer.ids,
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
        )
        env["mail.mail"].process_email_queue()
        env.cr.commit()
        print(f"demo: invoice {invoice.name} e-mailed to {customer.email} ({story})")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def to_site(url, link):
    """``link`` of a received message or page (absolute, or a path), on the site ``url``."""
    link = link.replace("&amp;", "&")
    return re.sub(r"^https?://[^/]+", url, link) if "://" in link else url + link


def find_unsubscribe_link(html):
    """The unsubscribe link of a received mailing's HTML body (core replaced the
    editor's ``/unsubscribe_from_list`` by the recipient's own link), or ``""``."""
    links = re.findall(r'href="([^"]*/mailing/\d+/(?:confirm_)?unsubscribe\?[^"]+)"', html)
    return links[0] if links else ""


def _open_page(browser, url, data=None):
    with browser.open(url, data=data, timeout=60) as response:
        return lxml_html.fromstring(response.read())


def unsubscribe(url, link, reason=UNSUBSCRIBE_REASON):
    """Follow an unsubscribe link in a browser and give a reason, as a person does on
    core's pages: confirm ("Are you sure...?"), then, from "Manage Subscriptions", pick an
    opt-out reason of the subscription page and send it as its script does.

    :param url: the site, e.g. ``http://localhost:8069``
    :param link: the unsubscribe link of the received message
    :param reason: a pattern of the label of the opt-out reason to pick
    :return: the label of the reason given
    """
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
    browser.addheaders = [("User-Agent", BROWSER)]
    # the link: core's confirmation page and its form (hidden fields and CSRF token)
    page = _open_page(browser, to_site(url, link))
    (form,) = page.xpath("//form[contains(@action, 'confirm_unsubscribe')]")
    fields = {field.name: field.value or "" for field in form.xpath(".//input[@name]")}
    page = _open_page(
        browser, to_site(url, form.get("action")), urllib.parse.urlencode(fields).encode()
    )
    # "Successfully unsubscribed!": its Manage Subscriptions button, the page asking why
    manage = page.xpath("//a[contains(@href, '/unsubscribe?')]/@href")[0]
    page = _open_page(browser, to_site(url, manage))
    (portal,) = page.xpath("//*[@id='o_mailing_portal_subscription']")
    (feedback,) = page.xpath("//*[@id='o_mailing_subscription_feedback']//form")
    labels = {
        label.get("for"): label.text_content().strip() for label in feedback.xpath(".//label")
    }
    radios = feedback.xpath(".//input[@name='opt_out_reason_id']")
    (radio,) = [r for r in radios if re.search(reason, labels.get(r.get("id"), ""), re.I)]
    # what the page's script posts (mailing_portal_subscription_feedback.js)
    params = {
        "csrf_token": feedback.xpath(".//input[@name='csrf_token']/@value")[0],
        "document_id": int(portal.get("data-document-id") or 0),
        "email": portal.get("data-email"),
        "feedback": "",
        "hash_token": portal.get("data-hash-token"),
        "last_action": portal.get("data-last-action"),
        "mailing_id": int(portal.get("data-mailing-id") or 0),
        "opt_out_reason_id": int(radio.get("value")),
    }
    request = urllib.request.Request(
        url + "/mailing/feedback",
        data=json.dumps({"jsonrpc": "2.0", "method": "call", "params": params}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with browser.open(request, timeout=60) as response:
        answer = json.loads(response.read())
    if answer.get("result") is not True:
        raise RuntimeError(f"the unsubscribe page refused the reason: {answer}")
    return labels[radio.get("id")]


def step_visit(url, mailboxes):
    """Recipients read their mail: the open pixel is loaded, links are clicked, one
    recipient unsubscribes and says why."""
    opener = urllib.request.build_opener(_NoRedirect)
    # a person's mail client, not a link scanner: a real client's user agent, and a click
    # some time after delivery (a click within seconds is counted as a machine's)
    opener.addheaders = [("User-Agent", MAIL_CLIENT)]
    for path in sorted(Path(mailboxes).glob("*.eml")):
        rcpt = path.stem.split("-", 1)[1]
        actions = VISITS.get(rcpt, ())
        if not actions:
            continue
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        body = message.get_body(("html",))
        html = body.get_content() if body else ""
        targets = []
        if "open" in actions:
            targets += re.findall(r'<img[^>]+src="([^"]*(?:/mail/track/|/mmd/)[^"]*)"', html)
        if "click" in actions:
            targets += re.findall(r'href="([^"]*(?:/r/|/mail/mmd/click/)[^"]+)"', html)[:1]
        wait = path.stat().st_mtime + SCANNER_SECONDS - time.time()
        if "click" in actions and wait > 0:
            time.sleep(wait)
        for found in targets:
            try:
                opener.open(to_site(url, found), timeout=30).read()
            except urllib.error.HTTPError as error:  # the click's redirect stops here
                if error.code not in (301, 302, 303, 307):
                    raise
        told = " and ".join(actions)
        if "unsubscribe" in actions:
            link = find_unsubscribe_link(html)
            if not link:
                raise RuntimeError(f"no unsubscribe link in {path}")
            told += f" (reason: {unsubscribe(url, link)!r})"
        print(f"demo: {rcpt} {told}")


def render_answer(template, values, trace, bounce):
    """The raw message (str) of an answer about ``trace`` sent to the ``bounce`` address.

    :param template: DSN, ARF or AUTO_REPLY
    :param values: the template's own values (server, status, diagnostic...)
    :param trace: what is answered, with ``id``, ``email``, ``message_id`` and ``subject``
    :param bounce: the bounce address of the alias domain
    """
    values = {
        key: value.format(original_subject=trace.subject) if isinstance(value, str) else value
        for key, value in values.items()
    }
    return template.format(
        bounce=bounce,
        rcpt=trace.email,
        trace=trace.id,
        tag="dsn",
        message_id=trace.message_id,
        original_subject=trace.subject,
        human=f"Your message to <{trace.email}> could not be delivered.",
        **values,
    )


class _Answered:
    """What an answer needs to know of the trace it answers."""

    def __init__(self, trace):
        self.id, self.email, self.message_id = trace.id, trace.email, trace.message_id
        self.subject = trace.mass_mailing_id.subject or ""


def feed_answer(env, template, values, trace, bounce):
    """Deliver one answer about ``trace`` to Odoo's mail gateway, as fetchmail does."""
    raw = render_answer(template, values, _Answered(trace), bounce)
    env["mail.thread"].message_process(False, raw.encode())
    env.cr.commit()


def step_bounces(env):
    """The answers of the remote servers reach the bounce mailbox and the mail gateway;
    two later mailings soft-bounce again; a user adds a registry entry."""
    mailing = env.ref("mass_mailing_delivery.mailing_demo_autumn_offer")
    domain = env["mail.alias.domain"].search([], limit=1)
    bounce = domain.bounce_email if domain else "bounce@example.com"
    traces = {trace.email: trace for trace in mailing.mailing_trace_ids}
    for rcpt, template, values in ANSWERS:
        trace = traces.get(rcpt)
        if not trace:
            continue
        feed_answer(env, template, values, trace, bounce)
        print(f"demo: answer about {rcpt} processed")
    # the mailbox stays full: each later mailing soft-bounces, the third in a row blocks
    rcpt, values = FULL_MAILBOX
    for xmlid in FOLLOW_UPS:
        follow_up = env.ref(xmlid)
        send_mailing(env, follow_up)
        trace = follow_up.mailing_trace_ids.filtered(lambda t, rcpt=rcpt: t.email == rcpt)
        if trace:
            feed_answer(env, DSN, values, trace[:1], bounce)
            event = env["mail.bounce.event"].search([("trace_id", "=", trace[:1].id)], limit=1)
            print(f"demo: soft bounce of {rcpt} for {follow_up.name!r}: {event.action_taken}")
    # a user explains the error the registry only knew generically (5.*), from its diagnostic
    Error = env["mail.delivery.error"]
    values = Error._prepare_from_diagnostic_values(
        "550 5.0.0 Mailbox migrated to the new mail platform (ref MIG-2026)"
    )
    values.update(
        name="Mailbox migrated (our partner's platform)",
        category="mailbox_disabled",
        permanence="permanent",
        diagnostic_regex=r"mailbox migrated",
        explanation="The recipient's company moved its mailboxes to a new platform; "
        "this old address no longer receives mail.",
        advice="Ask the contact for the new address and update the contact.",
        priority=50,
    )
    entry = Error.create(values)
    env.cr.commit()
    relabelled = env["mailing.trace"].search_count([("delivery_error_id", "=", entry.id)])
    print(f"demo: custom registry entry created; failures it explains now: {relabelled}")
    for blocked in env["mail.blacklist"].search([], order="block_reason, email"):
        print(f"demo: {blocked.email} {blocked.block_summary}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=["visit"])
    parser.add_argument("--url", default="http://localhost:8069")
    parser.add_argument("--mailboxes", default=".dev/mailboxes")
    args = parser.parse_args()
    step_visit(args.url, args.mailboxes)


if "env" in globals():  # inside odoo-bin shell: act as the administrator, as a user would
    _env = globals()["env"]
    _env = _env(user=_env.ref("base.user_admin").id)
    {"send": step_send, "bounces": step_bounces}[globals()["STEP"]](_env)
elif __name__ == "__main__":
    sys.exit(main())
