from . import mail_blacklist
from . import mail_bounce_counter
from . import mail_bounce_event
from . import mail_delivery_error
from . import mail_mail
from . import mail_thread
from . import mailing_trace
from . import res_config_settings
