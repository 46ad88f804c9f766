from . import mailing_outcome
from . import main
from . import mass_mailing
