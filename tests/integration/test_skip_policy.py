"""The suite's skip policy (conftest.py): under CI or as root, a test that
needs root, or is marked must_run, may not skip; other skips stay skips,
and a non-root developer run without CI keeps its skips. Each case runs
pytest on a small test file next to a copy of our conftest."""
import os
import pathlib
import shutil
import subprocess
import tempfile

import pytest

HERE = pathlib.Path(__file__).resolve().parent
PYTHON = "/usr/bin/python3"

CASES = '''
import pytest

@pytest.mark.skipif(True, reason="needs root to act as other uids")
def test_needs_root():
    pass

@pytest.mark.must_run
def test_marked():
    pytest.skip("tool missing")

def test_other_skip():
    pytest.skip("an optional tool is missing")

def test_plain():
    pass
'''


@pytest.fixture
def suite():
    d = pathlib.Path(tempfile.mkdtemp(prefix="persistd-skips-"))
    os.chmod(d, 0o755)
    shutil.copy(HERE / "conftest.py", d / "conftest.py")
    (d / "test_cases.py").write_text(CASES)
    for p in d.iterdir():
        os.chmod(p, 0o644)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def run(d, ci, **kw):
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    if ci:
        env["CI"] = "true"
    return subprocess.run([PYTHON, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider",
                           str(d)], capture_output=True, text=True, env=env, cwd=d,
                          timeout=120, **kw)


def test_ci_turns_needed_skips_into_failures(suite):
    p = run(suite, ci=True)
    assert p.returncode == 1, p.stdout + p.stderr
    # A skipif skips at setup, so pytest reports that one as an error.
    assert "1 failed, 1 passed, 1 skipped, 1 error" in p.stdout, p.stdout
    assert "skipped where it must run (CI='true'" in p.stdout
    assert "Skipped: needs root to act as other uids" in p.stdout
    assert "Skipped: tool missing" in p.stdout
    assert "SKIPPED [1] test_cases.py" in p.stdout and "an optional tool is missing" in p.stdout


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run a child as nobody")
def test_unprivileged_developer_run_keeps_skips(suite):
    p = run(suite, ci=False, user=65534, group=65534, extra_groups=[])
    assert p.returncode == 0, p.stdout + p.stderr
    assert "1 passed, 3 skipped" in p.stdout, p.stdout
    assert "needs root to act as other uids" in p.stdout
