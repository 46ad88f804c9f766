from . import test_bounce_processing
from . import test_delivery_error
from . import test_install
from . import test_sent_log
from . import test_sent_log_ui
from . import test_tracking
from . import test_tracking_ui
from . import test_ui
