"""pytest plugin of `make test` (loaded with `-p pytest_plugin`): run Odoo test classes under pytest-odoo as Odoo's own runner does.

* ``odoo.modules.module.current_test`` is set to the running test, as
  ``odoo.tests.suite.TestSuite.run`` does: core then refuses to open real SMTP
  connections unless a test explicitly allows it (see ``tests/common.py``), and
  test cursors are checked the same way.
* With ``MMD_FAIL_ON_SKIP=1`` (set by ``make test``) a skipped test is reported as
  a failure: a tour silently skipped because Chromium is missing must not pass.
"""

import os

import pytest

from odoo.modules import module as odoo_module


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    instance = getattr(item, "instance", None)
    if instance is not None and hasattr(instance, "check_test_cursor"):
        odoo_module.current_test = instance


def pytest_runtest_teardown(item, nextitem):
    if nextitem is None:
        odoo_module.current_test = False


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.skipped and os.environ.get("MMD_FAIL_ON_SKIP") and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped, and skips count as failures in `make test`: {reason}"
