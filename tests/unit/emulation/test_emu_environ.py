"""The thread-local os.environ overlay."""

import os
import threading

import pytest

from tiktok_sync_local.emulation import environ


@pytest.fixture
def overlay(monkeypatch):
    monkeypatch.setenv("EMU_REAL", "real")
    monkeypatch.delenv("EMU_WHO", raising=False)
    installed = environ.install()
    yield installed
    environ.uninstall(installed)
    assert type(os.environ).__name__ == "_Environ"


def test_a_layer_shows_over_the_real_environment(overlay):
    with overlay.layer({"EMU_WHO": "a"}):
        assert os.environ["EMU_WHO"] == os.getenv("EMU_WHO") == os.environ.get("EMU_WHO") == "a"
        assert "EMU_WHO" in os.environ and os.environ["EMU_REAL"] == "real"
        assert os.environ.copy()["EMU_WHO"] == "a"
        assert "EMU_WHO" in dict(os.environ) and "EMU_WHO" in list(os.environ)
        os.environ["EMU_SET"] = "in-layer"
        del os.environ["EMU_REAL"]
        assert "EMU_REAL" not in os.environ and os.getenv("EMU_REAL") is None
        with pytest.raises(KeyError):
            del os.environ["EMU_REAL"]
        with overlay.layer({"EMU_WHO": "nested"}):
            assert os.environ["EMU_WHO"] == "nested"
        assert os.environ["EMU_WHO"] == "a"
    assert "EMU_WHO" not in os.environ and "EMU_SET" not in os.environ
    assert os.environ["EMU_REAL"] == "real"  # the layer's delete did not reach the real environment


def test_outside_a_layer_writes_go_to_the_real_environment(overlay):
    os.environ["EMU_OUTSIDE"] = "1"
    assert overlay.real["EMU_OUTSIDE"] == "1"
    del os.environ["EMU_OUTSIDE"]
    assert "EMU_OUTSIDE" not in overlay.real
    with pytest.raises(TypeError):
        os.environ["EMU_BAD"] = 1


def test_threads_do_not_see_each_others_layers(overlay):
    barrier = threading.Barrier(4)
    seen = {}

    def run(who):
        with overlay.layer({"EMU_WHO": who}):
            barrier.wait()
            values = []
            for _ in range(200):
                values.append(os.environ["EMU_WHO"])
            seen[who] = set(values)

    threads = [threading.Thread(target=run, args=(f"t{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == {f"t{i}": {f"t{i}"} for i in range(4)}
    assert "EMU_WHO" not in os.environ


def test_install_twice_is_refused(overlay):
    with pytest.raises(RuntimeError):
        environ.install()
