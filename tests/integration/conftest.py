"""Shared pytest setup for persistd's integration tests.

Every module in fixtures/ (ports.py aside) is loaded as a pytest plugin, so each part of the
suite (DNS servers, the test CA, pebble, the daemon) keeps its fixtures in a
file of its own. Tests run the real binaries from $PERSISTD_BUILD (make sets
it; default build/) against real servers on loopback only.
"""
import os
import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE))

# ports.py holds no fixtures: it is a helper the server fixtures import.
pytest_plugins = sorted(
    f"fixtures.{p.stem}" for p in (HERE / "fixtures").glob("*.py")
    if p.stem not in ("__init__", "ports")
)

BUILD = pathlib.Path(os.environ.get("PERSISTD_BUILD", ROOT / "build"))


# ---- skips that must not happen ----
#
# A skip is silent unless pytest runs with -rs (make integration does). Where
# a test can run, it must: under CI (CI is set; CI runs as root) or as root,
# a skip because the test needs root, or of a test marked must_run, is a
# failure, so a test that checks authorization cannot quietly stop running.
import pytest  # noqa: E402

MUST_RUN_HERE = bool(os.environ.get("CI")) or os.geteuid() == 0


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "must_run: a skip of this test is a failure under CI or as root")


def skip_reason(rep):
    lr = rep.longrepr
    if isinstance(lr, tuple) and len(lr) == 3:
        return str(lr[2])
    return str(lr)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if not (MUST_RUN_HERE and rep.skipped) or hasattr(rep, "wasxfail"):
        return
    reason = skip_reason(rep)
    if item.get_closest_marker("must_run") is None and "needs root" not in reason:
        return
    rep.outcome = "failed"
    rep.longrepr = (f"skipped where it must run (CI={os.environ.get('CI', '')!r}, "
                    f"euid {os.geteuid()}): {reason}")
