import base64
import html
import re
from datetime import timedelta
from urllib.parse import urlsplit

from werkzeug.urls import url_join

from odoo import api
from odoo import fields
from odoo import models
from odoo import tools
from odoo.exceptions import MissingError
from odoo.tools import SQL

from ..tools import bot_filter
from ..tools import tracking_token

PARAM_PREFIX = "mass_mailing_delivery."
#: the 1x1 transparent GIF answered by the open pixel, whatever the token
PIXEL_GIF = base64.b64decode(b"R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==")
#: href values of <a> tags, as core's link tracker finds them (quotes kept apart)
HREF_REGEX = re.compile(r"""(<a\s[^>]*?\bhref\s*=\s*)(["'])(.*?)\2""", re.IGNORECASE | re.DOTALL)

STATES = [
    ("pending", "Queued"),
    ("sent", "Sent"),
    ("opened", "Opened"),
    ("clicked", "Clicked"),
    ("bounced", "Bounced"),
    ("failed", "Failed"),
]


class MailTrackingEmail(models.Model):
    """One tracked document e-mail, for one recipient.

    Created when a tracked e-mail (see ``mail.template.mmd_tracked``) leaves Odoo: its
    body then carries an open pixel and links rewritten through signed redirects that
    point at this record. Every open and click is a ``mail.tracking.event``; counts
    and last dates are computed from the events (append-only, so concurrent opens
    never lose or double a count).

    States: ``pending`` (being sent) -> ``sent`` | ``failed``; ``sent`` -> ``opened``
    (first human open) -> ``clicked`` (first human click; a click implies an open);
    a bounce turns any sent state into ``bounced``. Machine events (Apple Mail
    Privacy Protection, crawlers, link scanners) are recorded but do not move the
    state unless the setting "Count machine opens and clicks" is on.
    """

    _name = "mail.tracking.email"
    _description = "Tracked document e-mail"
    _order = "id desc"
    _rec_name = "email"

    mail_mail_id = fields.Many2one(
        "mail.mail", string="Outgoing e-mail", ondelete="set null", index="btree_not_null"
    )
    mail_message_id = fields.Many2one(
        "mail.message", string="Message", ondelete="cascade", index="btree_not_null"
    )
    company_id = fields.Many2one(
        "res.company",
        related="mail_message_id.record_company_id",
        store=True,
        index="btree_not_null",
        help="The company of the e-mailed document: users of other companies do not see "
        "its tracking.",
    )
    model = fields.Char("Document model", index=True, readonly=True)
    res_id = fields.Many2oneReference("Document ID", model_field="model", readonly=True)
    document_name = fields.Char("Document", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Recipient", ondelete="set null")
    email = fields.Char("E-mail", required=True, readonly=True)
    subject = fields.Char(readonly=True)
    state = fields.Selection(
        STATES,
        default="pending",
        required=True,
        readonly=True,
        index=True,
        help="Opened: the recipient's mail client loaded the tracking image. An e-mail read "
        "with remote images blocked (the default of many mail clients) stays 'Sent': "
        "'not opened' never proves the e-mail was not read.",
    )
    sent_date = fields.Datetime("Sent", readonly=True)
    first_open_date = fields.Datetime("First opened", readonly=True)
    first_click_date = fields.Datetime("First clicked", readonly=True)
    bounce_date = fields.Datetime("Bounced", readonly=True)
    failure_reason = fields.Text(readonly=True)
    unsubscribe_date = fields.Datetime("Unsubscribed", readonly=True)
    server_reference = fields.Char(
        string="Server reference",
        readonly=True,
        copy=False,
        help="The SMTP server's final reply to the e-mail (e.g. '250 2.0.0 Ok: queued as "
        "4Q1x2'): how the server and its logs name it.",
    )
    provider_message_id = fields.Char(
        string="Provider message ID",
        index="btree_not_null",
        readonly=True,
        copy=False,
        help="The id the server or sending service gave the e-mail, read from its reply: "
        "its events and logs are matched by it.",
    )
    event_ids = fields.One2many("mail.tracking.event", "tracking_email_id", string="Events")
    link_ids = fields.One2many("mail.tracking.link", "tracking_email_id", string="Links")
    last_open_date = fields.Datetime("Last opened", compute="_compute_event_stats")
    open_count = fields.Integer("Opens", compute="_compute_event_stats")
    click_count = fields.Integer("Clicks", compute="_compute_event_stats")
    machine_event_count = fields.Integer(
        "Machine events",
        compute="_compute_event_stats",
        help="Opens and clicks made by machines (privacy proxies, crawlers, link "
        "scanners): recorded, but left out of the open and click counts.",
    )

    # ------------------------------------------------------------
    # COMPUTES
    # ------------------------------------------------------------

    @api.depends("event_ids")
    def _compute_event_stats(self):
        count_machine = self._count_machine_events()
        stats = {record.id: dict.fromkeys(("open", "click", "machine"), 0) for record in self}
        last_open = {}
        groups = self.env["mail.tracking.event"]._read_group(
            [("tracking_email_id", "in", self.ids)],
            ["tracking_email_id", "event_type", "is_machine"],
            ["__count", "date:max"],
        )
        for tracking, event_type, is_machine, count, last in groups:
            if is_machine:
                stats[tracking.id]["machine"] += count
            if is_machine and not count_machine:
                continue
            stats[tracking.id][event_type] += count
            if event_type == "open":
                last_open[tracking.id] = max(last, last_open.get(tracking.id, last))
        for record in self:
            record.open_count = stats[record.id]["open"]
            record.click_count = stats[record.id]["click"]
            record.machine_event_count = stats[record.id]["machine"]
            record.last_open_date = last_open.get(record.id, False)

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

    def action_open_document(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": self.model,
            "res_id": self.res_id,
            "views": [(False, "form")],
        }

    @api.model
    def action_open_envelope(self, model, res_id):
        """The tracked e-mails of one document (the envelope of its chatter).

        :param model: the document's model name
        :param res_id: the document's id
        :return: window action on ``mail.tracking.email``
        """
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "mass_mailing_delivery.mail_tracking_email_action"
        )
        action["domain"] = [("model", "=", model), ("res_id", "=", int(res_id))]
        action["context"] = {"create": False, "search_default_groupby_message": 0}
        action["display_name"] = self.env._("Tracked e-mails")
        return action

    # ------------------------------------------------------------
    # SENDING
    # ------------------------------------------------------------

    @api.model
    def _get_secret(self):
        return self.env["ir.config_parameter"].sudo().get_param("database.secret")

    def _get_base_url(self):
        return self.mail_mail_id.get_base_url() if self.mail_mail_id else self.get_base_url()

    def _get_open_url(self):
        self.ensure_one()
        token = tracking_token.sign(self._get_secret(), "open", self.id)
        return url_join(self._get_base_url(), f"/mail/mmd/open/{self.id}/{token}/blank.gif")

    def _get_click_url(self, link):
        self.ensure_one()
        token = tracking_token.sign(self._get_secret(), "click", self.id, link.id)
        return url_join(self._get_base_url(), f"/mail/mmd/click/{self.id}/{link.id}/{token}")

    def _get_unsubscribe_url(self, oneclick=False):
        self.ensure_one()
        token = tracking_token.sign(self._get_secret(), "unsubscribe", self.id)
        route = "unsubscribe_oneclick" if oneclick else "unsubscribe"
        return url_join(self._get_base_url(), f"/mail/mmd/{route}/{self.id}/{token}")

    def _prepare_tracked_body(self, body):
        """Rewrite the links of ``body`` through this record's signed click redirects
        and append its open pixel.

        :param body: the HTML body of this recipient's e-mail
        :return: the tracked body (same type as ``body``)
        """
        self.ensure_one()
        if not body or tools.is_html_empty(body):
            return body
        wrapper = body.__class__
        text = str(body)
        links = {link.url: link for link in self.link_ids}
        own_netloc = urlsplit(self._get_base_url()).netloc

        def _rewrite(match):
            url = html.unescape(match.group(3)).strip()
            if not url.lower().startswith(("http://", "https://")) or self._is_own_tracking_url(
                url, own_netloc
            ):
                return match.group(0)
            link = links.get(url)
            if not link:
                link = links[url] = (
                    self.env["mail.tracking.link"]
                    .sudo()
                    .create({"tracking_email_id": self.id, "url": url})
                )
            quote = match.group(2)
            return f"{match.group(1)}{quote}{html.escape(self._get_click_url(link))}{quote}"

        text = HREF_REGEX.sub(_rewrite, text)
        pixel = (
            f'<img src="{html.escape(self._get_open_url())}" alt="" width="1" height="1" '
            f'style="display:block;height:1px;width:1px;border:0;" />'
        )
        text = tools.mail.append_content_to_html(text, pixel, plaintext=False)
        return wrapper(text) if wrapper is not str else text

    @api.model
    def _is_own_tracking_url(self, url, own_netloc):
        """Links that must stay as they are: Odoo's own tracking, unsubscribe and
        mass-mailing links."""
        parts = urlsplit(url)
        return parts.netloc == own_netloc and parts.path.startswith(
            ("/mail/mmd/", "/mail/track/", "/unsubscribe_from_list", "/mailing/", "/r/")
        )

    def _set_sent(self):
        self.filtered(lambda t: t.state == "pending").write(
            {"state": "sent", "sent_date": fields.Datetime.now(), "failure_reason": False}
        )

    def _set_failed(self, failure_reason):
        self.filtered(lambda t: t.state == "pending").write(
            {"state": "failed", "failure_reason": failure_reason or False}
        )

    def _set_bounced(self):
        self.filtered(lambda t: t.state in ("pending", "sent", "opened", "clicked")).write(
            {"state": "bounced", "bounce_date": fields.Datetime.now()}
        )

    # ------------------------------------------------------------
    # TRACKING (called by the controllers, with the token to check)
    # ------------------------------------------------------------

    @api.model
    def _count_machine_events(self):
        return bool(
            self.env["ir.config_parameter"]
            .sudo()
            .get_param(PARAM_PREFIX + "tracking_count_machine")
        )

    @api.model
    def _get_trusted(self, tracking_id, token, purpose, *extra_ids):
        """The tracking record the token vouches for (as superuser), or an empty
        recordset when the token is forged, the record unknown or too old."""
        if not isinstance(tracking_id, int) or not tracking_token.verify(
            self._get_secret(), token, purpose, tracking_id, *extra_ids
        ):
            return self.sudo().browse()
        tracking_sudo = self.sudo().browse(tracking_id)
        try:
            # one query: reading the fields tells whether the record exists
            expired = tracking_sudo._is_expired() and purpose == "open"
        except MissingError:
            return self.sudo().browse()
        return self.sudo().browse() if expired else tracking_sudo

    def _is_expired(self):
        self.ensure_one()
        param = self.env["ir.config_parameter"].sudo().get_param
        try:
            max_age = int(param(PARAM_PREFIX + "tracking_max_age_days", 365))
        except ValueError:
            max_age = 365
        start = self.sent_date or self.create_date
        return bool(max_age and start and start < fields.Datetime.now() - timedelta(days=max_age))

    @api.model
    def _process_open(self, tracking_id, token, user_agent="", ip=""):
        """Record an open if ``token`` is the open token of ``tracking_id``.

        Forged, unknown and expired tokens change nothing and say nothing: the
        caller answers the same image in every case.

        :return: the ``mail.tracking.event`` created (empty when nothing was recorded)
        """
        tracking_sudo = self._get_trusted(tracking_id, token, "open")
        if not tracking_sudo:
            return self.env["mail.tracking.event"]
        return tracking_sudo._record_event("open", user_agent=user_agent, ip=ip)

    @api.model
    def _process_click(self, tracking_id, link_id, token, user_agent="", ip=""):
        """Record a click if ``token`` is the click token of this link of
        ``tracking_id``, and return the URL stored for that link.

        :return: the URL to redirect to, or False (forged token, unknown link)
        """
        if not isinstance(link_id, int):
            return False
        tracking_sudo = self._get_trusted(tracking_id, token, "click", link_id)
        if not tracking_sudo:
            return False
        link_sudo = self.env["mail.tracking.link"].sudo().browse(link_id)
        try:
            if link_sudo.tracking_email_id != tracking_sudo:
                return False
        except MissingError:
            return False
        if not tracking_sudo._is_expired():
            tracking_sudo._record_event("click", link=link_sudo, user_agent=user_agent, ip=ip)
        return link_sudo.url

    def _record_event(self, event_type, link=None, user_agent="", ip=""):
        """Append one open or click event and move the state on a human (or, when
        the setting says so, any) event. The event is an insert, the state is written
        once per transition only: concurrent opens never lose or double a count."""
        self.ensure_one()
        now = fields.Datetime.now()
        since_sent = (now - self.sent_date).total_seconds() if self.sent_date else None
        is_machine, reason = bot_filter.classify(
            user_agent, ip, event_type, since_sent, self._get_scanner_delay()
        )
        # The hot path of two public endpoints: one plain INSERT instead of an ORM
        # create (the model is append-only, with no stored compute and no create
        # override), so that they keep up with core's pixel under load.
        self.env.cr.execute(
            SQL(
                """INSERT INTO mail_tracking_event (tracking_email_id, event_type, link_id,
                       date, user_agent, ip, is_machine, machine_reason,
                       create_uid, create_date, write_uid, write_date)
                   VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id""",
                self.id,
                event_type,
                link.id if link else None,
                now,
                (user_agent or "")[:512],
                (ip or "")[:64],
                is_machine,
                reason or None,
                self.env.uid,
                now,
                self.env.uid,
                now,
            )
        )
        event = self.env["mail.tracking.event"].sudo().browse(self.env.cr.fetchone()[0])
        self.invalidate_recordset(["event_ids"])
        if is_machine and not self._count_machine_events():
            return event
        values = {}
        if event_type == "open" and not self.first_open_date:
            values["first_open_date"] = now
        if event_type == "click" and not self.first_click_date:
            values["first_click_date"] = now
        if event_type == "open" and self.state in ("pending", "sent"):
            values["state"] = "opened"
        if event_type == "click" and self.state in ("pending", "sent", "opened"):
            values["state"] = "clicked"
        if values:
            self.write(values)
        return event

    @api.model
    def _get_scanner_delay(self):
        try:
            return int(
                self.env["ir.config_parameter"]
                .sudo()
                .get_param(
                    PARAM_PREFIX + "tracking_scanner_delay", bot_filter.DEFAULT_SCANNER_DELAY
                )
            )
        except ValueError:
            return bot_filter.DEFAULT_SCANNER_DELAY

    # ------------------------------------------------------------
    # UNSUBSCRIBE
    # ------------------------------------------------------------

    def _unsubscribe(self, reason_text=""):
        """Block this recipient's address for marketing (the one place that does it,
        for the one-click POST and the unsubscribe page alike).

        :param reason_text: optional words of the recipient, kept on the blacklist entry
        :return: the ``mail.blacklist`` record
        """
        self.ensure_one()
        reason_text = (reason_text or "").strip()[:1000]
        blocked = (
            self.env["mail.blacklist"]
            .sudo()
            .search([("email", "=", tools.email_normalize(self.email) or self.email)], limit=1)
        )
        if (
            self.unsubscribe_date
            and blocked.block_reason == "unsubscribed"
            and (not reason_text or reason_text in (blocked.block_evidence or ""))
        ):
            # a replay (mail clients retry the one-click POST, people click twice):
            # the entry, its evidence and the first date stay as they are
            return blocked
        document = f"{self.document_name or self.model} ({self.model},{self.res_id})"
        evidence = self.env._(
            "Unsubscribe request from the tracked e-mail %(subject)s about %(document)s",
            subject=self.subject or "",
            document=document,
        )
        if reason_text:
            evidence = self.env._(
                "%(evidence)s. Reason given: %(reason)s", evidence=evidence, reason=reason_text
            )
        entry = (
            self.env["mail.blacklist"]
            .sudo()
            ._add_with_reason(
                self.email,
                "unsubscribed",
                evidence=evidence,
                message_id=self.mail_message_id.message_id or None,
            )
        )
        self.sudo().write({"unsubscribe_date": fields.Datetime.now()})
        return entry
