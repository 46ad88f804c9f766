from . import mail_blacklist_unblock
