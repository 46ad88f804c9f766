"""Sending services' webhook payloads, written from each provider's public documentation
(field names, types and sample values), signed with keys the tests generate.

* Amazon SES: "Amazon SNS notification contents for Amazon SES" (Bounce, Complaint,
  Delivery) and "Verifying the signatures of Amazon SNS messages" (canonical string,
  SignatureVersion 1 = SHA1withRSA, 2 = SHA256withRSA);
* Mailgun: "Webhooks" (``signature`` + ``event-data``; HMAC-SHA256 of timestamp + token);
* SendGrid: "Event Webhook reference" and "Getting started with the Event Webhook
  security features" (ECDSA P-256 over timestamp + payload, base64 DER signature);
* Postmark: "Bounce webhook", "Spam complaint webhook", "Delivery webhook", bounce types;
* Brevo: "Transactional webhooks" (hard_bounce, soft_bounce, blocked, spam, delivered).
"""

import base64
import json
import time
import uuid
from datetime import UTC
from datetime import datetime
from datetime import timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from odoo.addons.mass_mailing_delivery.tools.providers import mailgun
from odoo.addons.mass_mailing_delivery.tools.providers import ses

TOPIC_ARN = "arn:aws:sns:eu-west-1:123456789012:ses-bounces"
CERT_URL = "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-mmdtest.pem"


def iso(timestamp=None):
    moment = datetime.fromtimestamp(timestamp or time.time(), tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


# ---- Amazon SES through SNS ----


class SnsSigner:
    """A signing key and its self-signed certificate standing for Amazon SNS's; the
    certificate is put in the addon's certificate cache (no fetch from Amazon)."""

    def __init__(self, cert_url=CERT_URL):
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com")])
        now = datetime.now(tz=UTC)
        self.pem = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=30))
            .sign(self.key, hashes.SHA256())
            .public_bytes(serialization.Encoding.PEM)
        )
        self.cert_url = cert_url
        ses.remember_certificate(cert_url, self.pem)

    def envelope(self, message, msg_type="Notification", version="1", timestamp=None, **extra):
        """An SNS message carrying ``message`` (dict or str), signed."""
        envelope = {
            "Type": msg_type,
            "MessageId": str(uuid.uuid4()),
            "TopicArn": TOPIC_ARN,
            "Message": message if isinstance(message, str) else json.dumps(message),
            "Timestamp": iso(timestamp),
            "SignatureVersion": version,
            "SigningCertURL": self.cert_url,
            **extra,
        }
        if msg_type == "Notification":
            envelope["UnsubscribeURL"] = "https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe"
        algorithm = hashes.SHA1() if version == "1" else hashes.SHA256()
        signature = self.key.sign(ses.canonical_string(envelope), padding.PKCS1v15(), algorithm)
        envelope["Signature"] = base64.b64encode(signature).decode()
        return envelope


def ses_mail(ses_message_id, recipient, original_message_id="<orig@test.example.com>"):
    return {
        "timestamp": iso(),
        "source": "martial.marketing@test.mycompany.com",
        "sourceArn": "arn:aws:ses:eu-west-1:123456789012:identity/test.mycompany.com",
        "sourceIp": "192.0.2.10",
        "sendingAccountId": "123456789012",
        "messageId": ses_message_id,
        "destination": [recipient],
        "headersTruncated": False,
        "headers": [
            {"name": "From", "value": "martial.marketing@test.mycompany.com"},
            {"name": "To", "value": recipient},
            {"name": "Message-ID", "value": original_message_id},
        ],
        "commonHeaders": {
            "from": ["martial.marketing@test.mycompany.com"],
            "to": [recipient],
            "messageId": f"<{ses_message_id}@email.amazonses.com>",
            "subject": "Delivery test",
        },
    }


def ses_bounce(ses_message_id, recipient, bounce_type="Permanent", subtype="General", **values):
    recipient_values = {
        "emailAddress": recipient,
        "action": "failed",
        "status": "5.1.1",
        "diagnosticCode": "smtp; 550 5.1.1 user unknown",
    }
    recipient_values.update(values)
    return {
        "notificationType": "Bounce",
        "bounce": {
            "bounceType": bounce_type,
            "bounceSubType": subtype,
            "bouncedRecipients": [recipient_values],
            "timestamp": iso(),
            "feedbackId": "000001378603176d-5a4b5ad9-6f30-4198-a8c3-b1eb0c270a1d-000000",
            "remoteMtaIp": "127.0.2.0",
            "reportingMTA": "dsn; a8-70.smtp-out.amazonses.com",
        },
        "mail": ses_mail(ses_message_id, recipient),
    }


def ses_complaint(ses_message_id, recipient):
    return {
        "notificationType": "Complaint",
        "complaint": {
            "userAgent": "AnyCompany Feedback Loop (V0.01)",
            "complainedRecipients": [{"emailAddress": recipient}],
            "complaintFeedbackType": "abuse",
            "arrivalDate": iso(),
            "timestamp": iso(),
            "feedbackId": "000001378603177f-18c07c78-fa81-4a58-9dd1-fedc3cb8f49a-000000",
        },
        "mail": ses_mail(ses_message_id, recipient),
    }


def ses_delivery(ses_message_id, recipient):
    return {
        "notificationType": "Delivery",
        "delivery": {
            "timestamp": iso(),
            "processingTimeMillis": 546,
            "recipients": [recipient],
            "smtpResponse": "250 ok:  Message 64111812 accepted",
            "reportingMTA": "a8-70.smtp-out.amazonses.com",
            "remoteMtaIp": "127.0.2.0",
        },
        "mail": ses_mail(ses_message_id, recipient),
    }


# ---- Mailgun ----


def mailgun_event(key, event, recipient, message_id, timestamp=None, **data):
    timestamp = str(int(timestamp or time.time()))
    token = uuid.uuid4().hex + uuid.uuid4().hex[:18]
    event_data = {
        "event": event,
        "id": base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("="),
        "timestamp": float(timestamp),
        "log-level": "error" if event == "failed" else "info",
        "recipient": recipient,
        "recipient-domain": recipient.rpartition("@")[2],
        "message": {"headers": {"message-id": message_id.strip("<>"), "subject": "Delivery test"}},
        "flags": {"is-test-mode": False},
        **data,
    }
    if event == "failed":
        event_data.setdefault("severity", "permanent")
        event_data.setdefault("reason", "bounce")
        event_data.setdefault(
            "delivery-status",
            {
                "attempt-no": 1,
                "code": 550,
                "enhanced-code": "5.1.1",
                "message": "5.1.1 The email account that you tried to reach does not exist.",
                "description": "",
                "mx-host": "mx.remote.example",
            },
        )
    return {
        "signature": {
            "timestamp": timestamp,
            "token": token,
            "signature": mailgun.sign(key, timestamp, token),
        },
        "event-data": event_data,
    }


# ---- SendGrid ----


class SendGridSigner:
    """An ECDSA P-256 key pair standing for SendGrid's: ``verification_key`` is what
    SendGrid shows (base64 DER public key)."""

    def __init__(self):
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.verification_key = base64.b64encode(
            self.key.public_key().public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        ).decode()

    def headers(self, body, timestamp=None):
        timestamp = str(int(timestamp or time.time()))
        signature = self.key.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
        return {
            "Content-Type": "application/json",
            "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
            "X-Twilio-Email-Event-Webhook-Timestamp": timestamp,
        }


def sendgrid_event(event, recipient, sg_message_id, smtp_id="", **values):
    item = {
        "email": recipient,
        "timestamp": int(time.time()),
        "smtp-id": smtp_id or "<14c5d75ce93.dfd.64b469@ismtpd-555>",
        "event": event,
        "category": ["cat facts"],
        "sg_event_id": base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("="),
        "sg_message_id": f"{sg_message_id}.filterdrecv-p3mdw1-756b745b58-kmzbl-18-5F5FC76C-9.0",
    }
    if event == "bounce":
        item.update(
            reason="550 5.1.1 The email account that you tried to reach does not exist.",
            status="5.1.1",
            type="bounce",
            bounce_classification="Invalid Address",
        )
    elif event == "dropped":
        item.update(reason="Bounced Address", status="5.0.0")
    elif event == "deferred":
        item.update(response="400 try again later", attempt="5")
    elif event == "delivered":
        item.update(response="250 OK")
    item.update(values)
    return item


# ---- Postmark ----


def postmark_bounce(message_id, recipient, type_code=1, bounce_type="HardBounce", **values):
    return {
        "RecordType": "Bounce",
        "MessageStream": "outbound",
        "ID": int(uuid.uuid4().int % 10**15),
        "Type": bounce_type,
        "TypeCode": type_code,
        "Name": "Hard bounce",
        "Tag": "Test",
        "MessageID": message_id,
        "Metadata": {},
        "ServerID": 23,
        "Description": "The server was unable to deliver your message (ex: unknown user, "
        "mailbox not found).",
        "Details": "smtp;550 5.1.1 The email account that you tried to reach does not exist.",
        "Email": recipient,
        "From": "martial.marketing@test.mycompany.com",
        "BouncedAt": iso(),
        "DumpAvailable": True,
        "Inactive": True,
        "CanActivate": True,
        "Subject": "Delivery test",
        **values,
    }


def postmark_complaint(message_id, recipient):
    return postmark_bounce(
        message_id,
        recipient,
        type_code=512,
        bounce_type="SpamComplaint",
        RecordType="SpamComplaint",
        Name="Spam complaint",
        Details="Test spam complaint details",
    )


def postmark_delivery(message_id, recipient):
    return {
        "RecordType": "Delivery",
        "ServerID": 23,
        "MessageStream": "outbound",
        "MessageID": message_id,
        "Recipient": recipient,
        "Tag": "welcome-email",
        "DeliveredAt": iso(),
        "Details": "Test delivery webhook details",
        "Metadata": {},
    }


def basic_auth(credentials):
    return {"Authorization": "Basic " + base64.b64encode(credentials.encode()).decode()}


# ---- Brevo ----


def brevo_event(event, recipient, message_id, **values):
    now = int(time.time())
    return {
        "event": event,
        "email": recipient,
        "id": 26224,
        "date": datetime.now(tz=UTC).strftime("%Y-%m-%d %H:%M:%S"),
        "ts": now,
        "message-id": message_id,
        "ts_event": now,
        "subject": "Delivery test",
        "tag": "",
        "sending_ip": "185.41.28.109",
        "ts_epoch": now * 1000,
        "tags": [],
        **({"reason": "550 5.1.1 user unknown"} if "bounce" in event or event == "blocked" else {}),
        **values,
    }
