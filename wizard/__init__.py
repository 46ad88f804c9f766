from . import mail_blacklist_unblock
from . import mail_compose_message
from . import mail_resend_message
from . import mail_resend_partner
