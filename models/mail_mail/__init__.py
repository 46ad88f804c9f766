# ruff: noqa: I001 (the order of the imports is the order in which these classes extend
# the model: each one's overrides wrap those of the modules imported before it)
from . import failure
from . import alert
from . import bcc
from . import queue
from . import reference
from . import throttle
from . import tracking
