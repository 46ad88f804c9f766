# ruff: noqa: I001 (the order of the imports is the order in which these classes extend
# the model: each one's overrides wrap those of the modules imported before it)
from . import report
from . import ignored
from . import alert
from . import outcome
from . import recipients
