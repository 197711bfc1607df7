"""moto's service-model look-ups behind its errors are made once when threads ask at the same time."""

import threading
import time

import pytest

pytestmark = pytest.mark.integration


def test_threads_getting_their_first_error_at_once_look_the_model_up_once(aws, monkeypatch):
    from moto.core import utils

    from tiktok_sync_local.emulation.patches import ModelLookupsPatch

    patch = next(p for p in aws._patches if isinstance(p, ModelLookupsPatch))
    patch.original(utils, "service_name_from_moto_package_name").cache_clear()
    sessions = []
    real = utils.Session

    def slow_session(*args, **kwargs):  # a slow start, so that every thread arrives before it ends
        sessions.append(1)
        time.sleep(0.05)
        return real(*args, **kwargs)

    monkeypatch.setattr(utils, "Session", slow_session)
    answers = []
    threads = [threading.Thread(target=lambda: answers.append(utils.service_name_from_moto_package_name("dynamodb")))
               for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert answers == ["dynamodb"] * 6
    assert len(sessions) == 1
