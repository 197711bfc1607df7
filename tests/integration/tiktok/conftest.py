"""Fixtures of the client's integration tests: the simulator and the client share one fake clock."""

from __future__ import annotations

import pytest
from test_tt_sim_support import SharedClock, client_for, running_sim


@pytest.fixture
def clock():
    return SharedClock()


@pytest.fixture
def sim(clock):
    with running_sim(clock) as s:
        yield s


@pytest.fixture
def client(sim, clock):
    return client_for(sim, clock)
