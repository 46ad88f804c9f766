"""Sending services' webhooks read in plain Python: each provider's documented payloads,
signed with keys generated here; forged, replayed and malformed requests refused
(no database; the SNS signing certificate is put in the cache, never fetched)."""

import json
import time

import pytest

from ..tools.providers import WebhookError
from ..tools.providers import brevo
from ..tools.providers import mailgun
from ..tools.providers import postmark
from ..tools.providers import reference
from ..tools.providers import sendgrid
from ..tools.providers import ses
from . import provider_payloads as payloads

SES_ID = "0100018c5e4b3a2f-1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d-000000"


def _body(document):
    return json.dumps(document).encode()


# ---- server reference ----


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("250 2.0.0 Ok: queued as 4Q1x2Zk7pQz", "4Q1x2Zk7pQz"),
        (f"250 Ok {SES_ID}", SES_ID),
        ("250 OK id=1rAbCd-0001Xy-9Z", "1rAbCd-0001Xy-9Z"),
        ("250 Ok: queued as <202501.123@smtp-relay.mailin.fr>", "202501.123@smtp-relay.mailin.fr"),
        ("250 2.0.0 OK: queued", ""),
        ("250 Great success", ""),
        ("", ""),
    ],
)
def test_reference_of_each_server_reply(reply, expected):
    assert reference.parse_reference(reply) == expected


def test_reply_text_is_one_line():
    assert reference.reply_text(250, b"2.0.0 Ok: queued\n as X") == "250 2.0.0 Ok: queued as X"


# ---- Amazon SES ----


@pytest.fixture(scope="module")
def sns():
    return payloads.SnsSigner()


@pytest.mark.parametrize("version", ["1", "2"])
def test_ses_bounce_signed_v1_and_v2(sns, version):
    envelope = sns.envelope(payloads.ses_bounce(SES_ID, "gone@remote.example"), version=version)
    events, message = ses.read(_body(envelope), {}, payloads.TOPIC_ARN, time.time())
    assert message["MessageId"] == envelope["MessageId"]
    [event] = events
    assert (event.kind, event.recipient, event.provider_message_id) == (
        "hard",
        "gone@remote.example",
        SES_ID,
    )
    assert event.original_message_id == "<orig@test.example.com>"
    assert (event.smtp_code, event.status) == (550, "5.1.1")
    assert event.diagnostic == "550 5.1.1 user unknown"
    assert event.classification == "Permanent/General"
    assert event.event_id == envelope["MessageId"]


@pytest.mark.parametrize(
    ("bounce_type", "subtype", "kind", "suppressed"),
    [
        ("Permanent", "NoEmail", "hard", False),
        ("Permanent", "Suppressed", "hard", True),
        ("Permanent", "OnAccountSuppressionList", "hard", True),
        ("Transient", "MailboxFull", "soft", False),
        ("Undetermined", "Undetermined", "soft", False),
    ],
)
def test_ses_bounce_types(sns, bounce_type, subtype, kind, suppressed):
    notification = payloads.ses_bounce(SES_ID, "a@remote.example", bounce_type, subtype)
    events, _message = ses.read(_body(sns.envelope(notification)), {}, "", time.time())
    assert (events[0].kind, events[0].suppressed) == (kind, suppressed)
    assert events[0].classification == f"{bounce_type}/{subtype}"


def test_ses_complaint_delivery_reject(sns):
    complaint = ses.read(
        _body(sns.envelope(payloads.ses_complaint(SES_ID, "a@remote.example"))), {}, "", time.time()
    )[0][0]
    assert (complaint.kind, complaint.feedback_type) == ("complaint", "abuse")
    delivery = ses.read(
        _body(sns.envelope(payloads.ses_delivery(SES_ID, "a@remote.example"))), {}, "", time.time()
    )[0][0]
    assert (delivery.kind, delivery.diagnostic) == (
        "delivered",
        "250 ok:  Message 64111812 accepted",
    )
    reject = {
        "notificationType": "Reject",
        "reject": {"reason": "Bad content"},
        "mail": payloads.ses_mail(SES_ID, "a@remote.example"),
    }
    [event] = ses.read(_body(sns.envelope(reject)), {}, "", time.time())[0]
    assert (event.kind, event.diagnostic) == ("rejected", "Bad content")


def test_ses_forged_replayed_foreign_refused(sns):
    envelope = sns.envelope(payloads.ses_bounce(SES_ID, "a@remote.example"))
    forged = dict(envelope, Message=envelope["Message"].replace("a@remote", "b@remote"))
    with pytest.raises(WebhookError) as error:
        ses.read(_body(forged), {}, "", time.time())
    assert error.value.status == 403
    old = sns.envelope(
        payloads.ses_bounce(SES_ID, "a@remote.example"), timestamp=time.time() - 3600
    )
    with pytest.raises(WebhookError, match="replay"):
        ses.read(_body(old), {}, "", time.time())
    with pytest.raises(WebhookError, match="another SNS topic"):
        ses.read(_body(envelope), {}, "arn:aws:sns:eu-west-1:999999999999:other", time.time())
    for url in (
        "http://sns.eu-west-1.amazonaws.com/cert.pem",
        "https://sns.eu-west-1.amazonaws.com.evil.example/cert.pem",
        "https://evil.example/sns.eu-west-1.amazonaws.com/cert.pem",
    ):
        with pytest.raises(WebhookError) as error:
            ses.read(_body(dict(envelope, SigningCertURL=url)), {}, "", time.time())
        assert error.value.status == 403
    with pytest.raises(WebhookError) as error:
        ses.read(b"{not json", {}, "", time.time())
    assert error.value.status == 400


def test_ses_subscription_confirmation_is_signed(sns):
    envelope = sns.envelope(
        "You have chosen to subscribe to the topic.",
        msg_type="SubscriptionConfirmation",
        Token="2336412f37fb687f5d51e6e241d7700ae02f7124",
        SubscribeURL="https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&Token=x",
    )
    events, message = ses.read(_body(envelope), {}, payloads.TOPIC_ARN, time.time())
    assert events == []
    assert message["Type"] == "SubscriptionConfirmation"
    with pytest.raises(WebhookError):
        ses.confirm_subscription(dict(message, SubscribeURL="https://evil.example/confirm"))


# ---- Mailgun ----

MAILGUN_KEY = "key-3ax6xnjp29jd6fds4gc373sgvjxteol0"


@pytest.mark.parametrize(
    ("event", "extra", "kind"),
    [
        ("failed", {}, "hard"),
        ("failed", {"severity": "temporary", "reason": "generic"}, "soft"),
        ("complained", {}, "complaint"),
        ("delivered", {}, "delivered"),
        ("unsubscribed", {}, "unsubscribed"),
    ],
)
def test_mailgun_events(event, extra, kind):
    payload = payloads.mailgun_event(MAILGUN_KEY, event, "a@remote.example", "<m1@x>", **extra)
    [result] = mailgun.read(_body(payload), {}, MAILGUN_KEY, time.time())
    assert (result.kind, result.original_message_id) == (kind, "<m1@x>")
    if event == "failed" and not extra:
        assert (result.smtp_code, result.status) == (550, "5.1.1")


def test_mailgun_suppressed_forged_replayed():
    payload = payloads.mailgun_event(
        MAILGUN_KEY, "failed", "a@remote.example", "<m1@x>", reason="suppress-bounce"
    )
    assert mailgun.read(_body(payload), {}, MAILGUN_KEY, time.time())[0].suppressed
    with pytest.raises(WebhookError):
        mailgun.read(_body(payload), {}, "another-key", time.time())
    payload["signature"]["token"] += "x"
    with pytest.raises(WebhookError):
        mailgun.read(_body(payload), {}, MAILGUN_KEY, time.time())
    old = payloads.mailgun_event(
        MAILGUN_KEY, "failed", "a@remote.example", "<m1@x>", timestamp=time.time() - 16 * 60
    )
    with pytest.raises(WebhookError, match="replay"):
        mailgun.read(_body(old), {}, MAILGUN_KEY, time.time())


# ---- SendGrid ----


def test_sendgrid_batch_and_forgeries():
    signer = payloads.SendGridSigner()
    batch = [
        payloads.sendgrid_event(name, f"{name}@remote.example", "14c5d75ce93.dfd.64b469")
        for name in ("bounce", "dropped", "deferred", "spamreport", "delivered", "open")
    ]
    body = _body(batch)
    events = sendgrid.read(body, signer.headers(body), signer.verification_key, time.time())
    assert [e.kind for e in events] == ["hard", "hard", "delayed", "complaint", "delivered"]
    assert {e.provider_message_id for e in events} == {"14c5d75ce93.dfd.64b469"}
    assert events[1].suppressed and not events[0].suppressed
    assert (events[0].smtp_code, events[0].status) == (550, "5.1.1")
    headers = signer.headers(body)
    with pytest.raises(WebhookError):
        sendgrid.read(body + b" ", headers, signer.verification_key, time.time())
    with pytest.raises(WebhookError):
        sendgrid.read(body, headers, payloads.SendGridSigner().verification_key, time.time())
    old = signer.headers(body, timestamp=time.time() - 3600)
    with pytest.raises(WebhookError, match="replay"):
        sendgrid.read(body, old, signer.verification_key, time.time())


# ---- Postmark ----


def test_postmark_events_and_credentials():
    auth = payloads.basic_auth("odoo:s3cret")
    for payload, kind in (
        (payloads.postmark_bounce("883953f4-6105", "a@remote.example"), "hard"),
        (payloads.postmark_bounce("883953f4-6105", "a@remote.example", 4096, "SoftBounce"), "soft"),
        (payloads.postmark_complaint("883953f4-6105", "a@remote.example"), "complaint"),
        (payloads.postmark_delivery("883953f4-6105", "a@remote.example"), "delivered"),
    ):
        [event] = postmark.read(_body(payload), auth, "odoo:s3cret", time.time())
        assert (event.kind, event.provider_message_id) == (kind, "883953f4-6105")
    inactive = payloads.postmark_bounce(
        "883953f4-6105", "a@remote.example", 100002, "ManuallyDeactivated"
    )
    assert postmark.read(_body(inactive), auth, "odoo:s3cret", time.time())[0].suppressed
    for headers in ({}, payloads.basic_auth("odoo:wrong"), {"Authorization": "Basic !!"}):
        with pytest.raises(WebhookError) as error:
            postmark.read(_body(inactive), headers, "odoo:s3cret", time.time())
        assert error.value.status == 401


# ---- Brevo ----


def test_brevo_events_and_token():
    auth = {"Authorization": "Bearer brevo-token-1"}
    for name, kind in (
        ("hard_bounce", "hard"),
        ("soft_bounce", "soft"),
        ("blocked", "hard"),
        ("spam", "complaint"),
        ("delivered", "delivered"),
    ):
        payload = payloads.brevo_event(name, "a@remote.example", "<201798300811.5787683@relay>")
        [event] = brevo.read(_body(payload), auth, "brevo-token-1", time.time())
        assert (event.kind, event.suppressed) == (kind, name == "blocked")
        assert event.provider_message_id == "201798300811.5787683@relay"
    with pytest.raises(WebhookError):
        brevo.read(_body(payload), {"Authorization": "Bearer other"}, "brevo-token-1", 0)
    assert brevo.read(_body(dict(payload, event="opened")), auth, "brevo-token-1", 0) == []
