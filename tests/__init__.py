from . import test_blocked_address
from . import test_bounce_processing
from . import test_delivery_error
from . import test_delivery_report
from . import test_install
from . import test_retry
from . import test_ui
