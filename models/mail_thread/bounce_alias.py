import logging
import xmlrpc.client
from email import policy
from email.errors import HeaderParseError
from email.header import decode_header
from email.header import make_header
from email.parser import BytesParser

from psycopg2 import errors as pg_errors

from odoo import api
from odoo import models
from odoo.service.model import PG_CONCURRENCY_EXCEPTIONS_TO_RETRY
from odoo.tools import email_normalize
from odoo.tools import email_split
from odoo.tools.mail import generate_tracking_message_id

from ...tools import bounce as bounce_parser
from ...tools import bounce_batch

_logger = logging.getLogger(__name__)

#: what core's message parsing raises on hostile input (unknown charsets, broken MIME...)
PARSE_ERRORS = (LookupError, UnicodeError, IndexError, ValueError, TypeError, AttributeError)
#: what a concurrent transaction makes a bounce's processing raise (another worker on the
#: same address or the same message): worth processing again in a new transaction
CONCURRENCY_ERRORS = (*PG_CONCURRENCY_EXCEPTIONS_TO_RETRY, pg_errors.UniqueViolation)


class MailThread(models.AbstractModel):
    """Bounce alias: every message is parsed per recipient (``mail.bounce.event``)
    instead of core's "anything here is a bounce of its first recipient"."""

    _inherit = "mail.thread"

    @api.model
    def message_process(  # noqa: PLR0917 (core's signature)
        self,
        model,
        message,
        custom_values=None,
        save_original=False,
        strip_attachments=False,
        thread_id=None,
    ):
        """Core's gateway, except that a message of the bounce mailbox that core cannot
        parse (unknown charset, broken MIME, headers only...) is read by the addon's
        parser and logged with its original kept, instead of raising and being lost;
        and one whose processing a concurrent transaction made fail (serialization
        failure, deadlock, lock timeout, unique violation) is kept and processed again
        soon (``mail.bounce.deferred``), instead of being lost: core's ``fetch_mail``
        flags an IMAP message as seen whatever its processing raised."""
        try:
            with self.env.cr.savepoint():
                bounce = self._mmd_read_bounce_alias_message(self._mmd_message_bytes(message))
                if bounce:
                    self.env["mail.bounce.event"].sudo()._process_bounce_message(*bounce)
                    return False
                return super().message_process(
                    model,
                    message,
                    custom_values=custom_values,
                    save_original=save_original,
                    strip_attachments=strip_attachments,
                    thread_id=thread_id,
                )
        except PARSE_ERRORS as error:
            raw = self._mmd_message_bytes(message)
            if not self._mmd_is_bounce_mailbox_message(raw):
                raise
            _logger.info("Bounce mailbox: core could not parse a message (%r): read as raw", error)
            self.env["mail.bounce.event"].sudo()._process_unparsable_message(raw, error)
            return False
        except CONCURRENCY_ERRORS as error:
            raw = self._mmd_message_bytes(message)
            if not self._mmd_is_bounce_mailbox_message(raw):
                raise
            message_id = self._mmd_message_id(raw)
            _logger.info(
                "Bounce mailbox: %r failed because of a concurrent transaction (%s): "
                "it will be processed again",
                message_id,
                type(error).__name__,
            )
            self.env["mail.bounce.deferred"].sudo()._defer(raw, message_id, error)
            return False

    @api.model
    def _mmd_read_bounce_alias_message(self, raw):
        """``(email message, message values)`` of ``raw`` when it is addressed (To,
        Delivered-To) to a bounce alias of the database, ``None`` otherwise.

        Core's gateway parses such a message whole (its body, its attachments, its
        author's contact) and routes it to its bounce handling, which the addon
        replaces: the addon reads only what its bounce processing needs (Message-ID,
        sender, recipients, the Message-IDs the bounce answers), with the plain policy
        its bounce parser reads with. Any other message goes through core's gateway as
        before (a DSN sent to another address included).
        """
        headers = BytesParser(policy=policy.compat32).parsebytes(raw, headersonly=True)
        addressed_to = ",".join(
            self._mmd_header_text(value)
            for name in ("Delivered-To", "To")
            for value in headers.get_all(name) or []
        )
        if not addressed_to:
            return None
        addresses = {
            email_normalize(address) or address.lower() for address in email_split(addressed_to)
        }
        aliases = set(
            self.env["mail.alias.domain"]
            .sudo()
            .search([("bounce_alias", "!=", False)])
            .mapped("bounce_email")
        )
        if not addresses & aliases and not self.env["mail.bounce.event"]._find_verp_trace(
            addressed_to
        ):
            return None
        email_message = BytesParser(policy=policy.compat32).parsebytes(raw)
        text = {
            name: " ".join(self._mmd_header_text(v) for v in headers.get_all(name) or [])
            for name in ("Message-Id", "From", "References", "In-Reply-To")
        }
        message_dict = {
            "message_id": text["Message-Id"].strip() or generate_tracking_message_id("missingid"),
            "email_from": text["From"],
            "to": addressed_to,
            "body": "",
            "references": text["References"],
            "in_reply_to": text["In-Reply-To"].strip(),
            # read by the bounce parser as received (``mmd_raw`` would keep it whole)
            "mmd_bytes": raw,
        }
        # core's bounce values without their look-ups (the addon matches by Message-ID
        # and address itself); read by core when a message cannot be read at all
        # (``mail.bounce.event._apply_unknown``)
        message_dict["bounced_msg_ids"] = bounce_batch.bounced_message_ids(
            email_message, message_dict["in_reply_to"], message_dict["references"]
        )
        message_dict.update(is_bounce=True, mmd_email_message=email_message)
        return email_message, message_dict

    @api.model
    def _mmd_header_text(self, value):
        """A header value read with the plain policy, as text (encoded words decoded)."""
        try:
            return str(make_header(decode_header(str(value))))
        except (LookupError, UnicodeError, ValueError, HeaderParseError):
            return str(value)

    @api.model
    def _mmd_message_bytes(self, message):
        if isinstance(message, xmlrpc.client.Binary):
            return bytes(message.data)
        if isinstance(message, str):
            return message.encode("utf-8", "surrogateescape")
        return bytes(message)

    @api.model
    def _mmd_message_id(self, raw):
        """The Message-ID of ``raw`` ('' when none can be read)."""
        try:
            headers = BytesParser(policy=policy.compat32).parsebytes(raw, headersonly=True)
        except PARSE_ERRORS:
            return ""
        return str(headers.get("Message-Id") or "").strip()

    @api.model
    def _mmd_is_bounce_mailbox_message(self, raw):
        """Whether ``raw`` was sent to a bounce alias, or is a bounce or a report."""
        try:
            headers = BytesParser(policy=policy.compat32).parsebytes(raw, headersonly=True)
            addresses = {
                email_normalize(address) or address.lower()
                for name in ("To", "Delivered-To", "X-Original-To", "Cc")
                for value in headers.get_all(name) or []
                for address in email_split(str(value))
            }
        except PARSE_ERRORS:
            addresses = set()
        aliases = set(
            self.env["mail.alias.domain"]
            .sudo()
            .search([("bounce_alias", "!=", False)])
            .mapped("bounce_email")
        )
        return bool(addresses & aliases) or bounce_parser.is_bounce_or_report(raw)

    @api.model
    def _detect_is_bounce(self, message, message_dict):
        """Core's detection, plus mail sent to a VERP bounce address of ours."""
        return super()._detect_is_bounce(message, message_dict) or bool(
            self.env["mail.bounce.event"]._find_verp_trace(message_dict.get("to") or "")
        )

    @api.model
    def _routing_handle_bounce(self, email_message, message_dict):
        if self.env.context.get("mmd_core_bounce"):
            return super()._routing_handle_bounce(email_message, message_dict)
        return (
            self.env["mail.bounce.event"]
            .sudo()
            ._process_bounce_message(
                email_message, dict(message_dict, mmd_email_message=email_message)
            )
        )

    @api.model
    def _routing_handle_bounce_core(self, message_dict):
        """Run core's bounce handling (partner bounce counters, notification
        status, trace status) for one recipient's ``message_dict``."""
        return self.with_context(mmd_core_bounce=True)._routing_handle_bounce(
            message_dict.get("mmd_email_message"), message_dict
        )

    @api.model
    def _routing_reset_bounce(self, email_message, message_dict):
        # a reply proves the address works: reset its soft-bounce streak too
        res = super()._routing_reset_bounce(email_message, message_dict)
        self.env["mail.bounce.counter"].sudo()._reset(
            [email_normalize(message_dict.get("email_from") or "")]
        )
        return res
