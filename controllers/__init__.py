from . import mailing_outcome
