from odoo import models
from odoo.http import request


class IrHttp(models.AbstractModel):
    _inherit = "ir.http"

    @classmethod
    def _serve_fallback(cls):
        """A path with a NUL byte is no attachment's URL (PostgreSQL text cannot hold
        one): answer the 404 page instead of failing on the attachment query (500).
        Reached by every frontend route that raises NotFound, such as the addon's
        unsubscribe routes on a forged URL, and by any path that matches no route."""
        if "\x00" in request.httprequest.path:
            return None
        return super()._serve_fallback()
