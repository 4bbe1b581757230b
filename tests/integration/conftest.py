"""Shared pytest setup for persistd's integration tests.

Every module in fixtures/ is loaded as a pytest plugin, so each part of the
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

pytest_plugins = sorted(
    f"fixtures.{p.stem}" for p in (HERE / "fixtures").glob("*.py") if p.stem != "__init__"
)

BUILD = pathlib.Path(os.environ.get("PERSISTD_BUILD", ROOT / "build"))
