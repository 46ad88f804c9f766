from . import mail_blacklist_unblock
from . import mail_compose_message
