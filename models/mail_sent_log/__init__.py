# the order of the imports is the order in which these classes extend the model: each
# one's overrides wrap those of the modules imported before it
from . import log
from . import retention
from . import view
