"""Shared test set-up: paths, dummy AWS credentials (never a real account), sample files."""

from __future__ import annotations

import os
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
EVENTS = ROOT / "events"
SAMPLES = EVENTS / "samples"

# No test may reach a real AWS account.
for key, value in {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_DEV": "false",
}.items():
    os.environ[key] = value
os.environ.pop("AWS_PROFILE", None)

# The emulation's caches (SAM transform, parsed state machines) of the tests' many templates and
# parameters in a folder of their own: the user's `make demo` keeps its entries through `make test`.
if "TIKTOK_SYNC_CACHE_DIR" not in os.environ:
    _base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    os.environ["TIKTOK_SYNC_CACHE_DIR"] = os.path.join(_base, "tiktok-sync", "tests")


@pytest.fixture
def samples() -> pathlib.Path:
    return SAMPLES


@pytest.fixture
def root() -> pathlib.Path:
    return ROOT


@pytest.fixture(autouse=True)
def _library_logger_propagates():
    """Importing a Lambda handler hands the `tiktok_sync` logger to Powertools (propagate off);
    put it back so caplog sees library logs in every test."""
    import logging

    lib = logging.getLogger("tiktok_sync")
    lib.handlers = [logging.NullHandler()]
    lib.propagate = True
    lib.setLevel(logging.NOTSET)
    yield
