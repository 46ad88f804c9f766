from . import test_bounce_processing
from . import test_dashboard
from . import test_delivery_error
from . import test_install
from . import test_live_summary
from . import test_outcome_tags
from . import test_throttle
from . import test_ui
