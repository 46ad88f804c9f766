from . import mailing_outcome
from . import main
from . import mass_mailing
from . import webhook_brevo
from . import webhook_mailgun
from . import webhook_postmark
from . import webhook_sendgrid
from . import webhook_ses
