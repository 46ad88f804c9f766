import logging
import smtplib
import weakref

from odoo import api
from odoo import fields
from odoo import models
from odoo.addons.base.models.ir_mail_server import MailDeliveryException
from odoo.tools import email_normalize
from odoo.tools import email_split

from ...tools.providers import reference

_logger = logging.getLogger(__name__)

#: header marking the archive (BCC) copy of a mass mailing e-mail, removed before it leaves
#: (see ``mail.mail._mmd_prepare_archive_copy``)
ARCHIVE_COPY_HEADER = "X-MMD-Archive-Copy"


def _is_closed(session):
    """Whether ``session`` (Odoo's ``SMTPConnection`` wrapper or an ``smtplib.SMTP``)
    is a session whose socket was closed."""
    if session is None:
        return False
    smtp = getattr(session, "__obj__", session)
    return getattr(smtp, "sock", True) is None


def _capture_replies(session):
    """Make ``session`` keep the server's reply to DATA (``mmd_last_reply``).

    ``smtplib.SMTP.sendmail`` reads the final reply to each message (``250 2.0.0 Ok:
    queued as 4Q1x2``) and drops it; it calls ``self.data()`` for it, so the instance's
    ``data`` is wrapped once to keep that reply on the session."""
    smtp = getattr(session, "__obj__", session)
    if smtp is None or getattr(smtp, "mmd_captures_replies", False):
        return
    data = smtp.data

    def data_keeping_reply(msg):
        code, message = data(msg)
        smtp.mmd_last_reply = reference.reply_text(code, message)
        return code, message

    smtp.data = data_keeping_reply
    smtp.mmd_captures_replies = True
    smtp.mmd_last_reply = ""


def _last_reply(session):
    smtp = getattr(session, "__obj__", session)
    return getattr(smtp, "mmd_last_reply", "") if smtp is not None else ""


def _reset_reply(session):
    smtp = getattr(session, "__obj__", session)
    if smtp is not None and getattr(smtp, "mmd_captures_replies", False):
        smtp.mmd_last_reply = ""


class SMTPReconnectError(smtplib.SMTPServerDisconnected):
    """The server closed the session in the middle of a batch, and could not be reached
    again (refused connection, ``421`` greeting, timeout...). ``args[0]`` is the error of
    the new connection. A ``SMTPServerDisconnected``, so that core's ``mail.mail._send``
    stops the batch on it instead of failing every remaining mail one by one."""


def _close_quietly(session):
    """Close a replacement session once the batch that used it is over."""
    try:
        session.quit()
    except (smtplib.SMTPException, OSError):
        session.close()


class ThrottleMixin(models.AbstractModel):
    """Defined here, before the models that inherit it (ir.mail_server, mailing.mailing).

    Throttle settings: a maximum rate and/or a minimum delay between two e-mails.

    The stricter of the two wins; both at 0 mean no limit (core's speed).
    """

    _name = "mail.throttle.mixin"
    _description = "Send throttle settings"

    throttle_rate = fields.Integer(
        string="Max e-mails per minute",
        default=0,
        help="Send at most this many e-mails per minute (0: no limit).",
    )
    throttle_delay = fields.Float(
        string="Delay between e-mails (s)",
        default=0.0,
        help="Wait at least this many seconds between two e-mails (0: no delay).",
    )

    _sql_constraints = [
        ("throttle_rate_positive", "CHECK(throttle_rate >= 0)", "The rate cannot be negative."),
        ("throttle_delay_positive", "CHECK(throttle_delay >= 0)", "The delay cannot be negative."),
    ]

    @api.model
    def _throttle_interval(self, rate, delay):
        """Seconds between two e-mails for ``rate`` per minute and ``delay`` seconds."""
        return max(60.0 / rate if rate and rate > 0 else 0.0, delay or 0.0)

    def _get_throttle_interval(self):
        """Seconds to wait between two e-mails of this record (0.0: no limit)."""
        self.ensure_one()
        return self._throttle_interval(self.throttle_rate, self.throttle_delay)


class IrMailServer(models.Model):
    """Outgoing mail servers get a send throttle, honoured by the mail queue across
    workers (see ``mail.send.slot``), and keep a mail batch going after a server closes
    the session.

    A server that answers ``421`` (service not available, e.g. ``421 4.7.0 Try again
    later, closing connection``) closes the SMTP session: ``smtplib`` drops the socket,
    and core would abort the whole batch on the next message with
    ``SMTPServerDisconnected``, leaving the rest of the mailing unsent. The refused
    recipient is recorded as a (temporary) failure; the next message of the batch opens
    a new session to the same server. When that new session cannot be opened either
    (connection refused, ``421`` greeting, timeout), :class:`SMTPReconnectError` stops
    the batch (see ``mail.mail._send``).
    """

    _name = "ir.mail_server"
    _inherit = ["ir.mail_server", "mail.throttle.mixin"]

    mmd_bcc_email = fields.Char(
        "Archive copy to (BCC)",
        help="Every mass mailing e-mail sent through this server is also sent, hidden, to "
        "this address (an archive), unless its mailing names its own archive address.",
    )

    def send_email(self, message, *args, **kwargs):
        archive_copy = bool(message[ARCHIVE_COPY_HEADER])
        if archive_copy:
            del message[ARCHIVE_COPY_HEADER]
        # ``smtp_session`` is the 11th parameter of core's signature (10th after message)
        if len(args) >= 10:
            args = list(args)
            if _is_closed(args[9]):
                args[9] = self._get_live_smtp_session(args[9], args[0])
        else:
            session = kwargs.get("smtp_session")
            if _is_closed(session):
                mail_server_id = kwargs.get("mail_server_id", args[0] if args else None)
                kwargs["smtp_session"] = self._get_live_smtp_session(session, mail_server_id)
        session = args[9] if len(args) >= 10 else kwargs.get("smtp_session")
        _capture_replies(session)
        _reset_reply(session)
        try:
            message_id = super().send_email(message, *args, **kwargs)
        except MailDeliveryException as error:
            if not archive_copy:
                raise
            # the recipient's e-mail left already: a refused archive copy does not fail it
            _logger.warning(
                "Archive copy of %s not sent: %s", message["Message-Id"], error.args[-1]
            )
            return message["Message-Id"]
        if not archive_copy:
            # the archive's reply is not the recipient's reference
            self._mmd_keep_server_reply(message, message_id, _last_reply(session))
        return message_id

    def connect(self, *args, **kwargs):
        session = super().connect(*args, **kwargs)
        _capture_replies(session)
        return session

    # ------------------------------------------------------------
    # SERVER REFERENCE
    # ------------------------------------------------------------

    def _mmd_keep_server_reply(self, message, message_id, reply):
        """Keep the server's final reply to the message just sent, until the mail's
        post-processing records it (``mail.mail._mmd_record_server_references``).

        A document e-mail is sent once per recipient with the same Message-ID: the
        replies are kept per Message-ID and recipient, for this transaction."""
        if not reply or not message_id:
            return
        recipients = [
            email_normalize(address) or address.lower()
            for name in ("To", "Cc")
            for value in message.get_all(name) or []
            for address in email_split(str(value))
        ]
        replies = self.env.cr.cache.setdefault("mmd_smtp_replies", {})
        replies.setdefault(message_id, []).append((recipients, reply))

    @api.model
    def _mmd_pop_server_replies(self, message_id):
        """The replies kept for ``message_id``: list of ``(recipients, reply)``."""
        return self.env.cr.cache.get("mmd_smtp_replies", {}).pop(message_id, [])

    def _get_live_smtp_session(self, closed_session, mail_server_id=None):
        """A connected session replacing ``closed_session`` (closed by the server).

        The replacement is kept on the closed session, so the following messages of the
        batch (which still hold the closed one) reuse it instead of reconnecting each time.
        """
        replacement = getattr(closed_session, "mmd_replacement", None)
        if replacement is not None and not _is_closed(replacement):
            return replacement
        _logger.info("SMTP session closed by the server: opening a new one for the batch")
        try:
            replacement = self.connect(
                mail_server_id=mail_server_id or None,
                smtp_from=getattr(closed_session, "smtp_from", None),
            )
        except (smtplib.SMTPException, OSError) as error:
            raise SMTPReconnectError(error) from error
        closed_session.mmd_replacement = replacement
        if replacement is not None:
            # core quits the session it opened at the end of the batch: quit ours then too
            weakref.finalize(closed_session, _close_quietly, replacement)
        return replacement
