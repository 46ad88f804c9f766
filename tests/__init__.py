from . import test_bounce_gateway_corpus
from . import test_bounce_processing
from . import test_delivery_error
from . import test_install
from . import test_smtp_faults
from . import test_ui
from . import test_workers
