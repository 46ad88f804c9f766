"""Shared part of the sending services' webhook controllers (one per provider).

Thin: read the body and headers, find the outgoing mail server named in the URL, let
``ir.mail_server._mmd_receive_webhook`` check and process them, answer its status.
The URL names the server, it is no secret: every request is authenticated by the
provider's own mechanism (signature, basic authentication, token).
"""

from odoo.http import Response
from odoo.http import request

from ..tools.providers import MAX_BODY
from .main import _options
from .main import _to_id


def receive(provider, server_id):
    """Answer one webhook POST of ``provider`` for the server ``server_id`` (URL part)."""
    options = _options(["POST"])
    if options:
        return options
    server_id = _to_id(server_id)
    httprequest = request.httprequest
    if (httprequest.content_length or 0) > MAX_BODY:
        return Response("Payload too large", status=413, content_type="text/plain")
    server = (
        request.env["ir.mail_server"]
        .sudo()
        .search_fetch([("id", "=", server_id)], ["mmd_provider", "mmd_provider_secret"])
        if server_id
        else None
    )
    if not server:
        return Response("No such webhook", status=404, content_type="text/plain")
    # kept: Odoo runs the request again after a serialization failure, on the same body
    body = httprequest.get_data(cache=True)
    status, text = server._mmd_receive_webhook(provider, body, httprequest.headers)
    return Response(text, status=status, content_type="text/plain")


ROUTE_OPTIONS = {
    "type": "http",
    "auth": "public",
    "methods": ["POST"],
    "csrf": False,
    "save_session": False,
}
