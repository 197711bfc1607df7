"""A thread-local `os.environ`, so concurrent in-process handlers each see their own function's variables.

Lambda gives every function its own process and environment; locally every handler runs in one
process, often at the same time in moto's worker threads. While installed, `os.environ` is an
`EnvironOverlay`: a thread inside `overlay.layer(variables)` reads and writes those variables on
top of the real environment; any other thread sees the real environment unchanged.
`os.getenv`, `os.environ.get`, `os.environ[...]`, `in`, iteration and `copy()` all honour the layer.

Threads a handler starts (a thread pool in the report step, say) inherit its layer, as threads
of a Lambda process share its environment; threads moto starts (executions, Map items) do not.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Mapping, MutableMapping
from contextlib import contextmanager

_DELETED = object()


class EnvironOverlay(MutableMapping):
    def __init__(self, real: MutableMapping[str, str]):
        self.real = real
        self._local = threading.local()

    def _layer(self) -> dict | None:
        stack = getattr(self._local, "stack", None)
        if stack:
            return stack[-1]
        return getattr(threading.current_thread(), _INHERITED, None)

    def current(self) -> dict | None:
        """This thread's layer (None outside any)."""
        return self._layer()

    @contextmanager
    def layer(self, variables: Mapping[str, str]):
        """Inside the block, this thread sees `variables` over the real environment (nests)."""
        stack = getattr(self._local, "stack", None)
        if stack is None:
            stack = self._local.stack = []
        stack.append({str(key): str(value) for key, value in variables.items()})
        try:
            yield
        finally:
            stack.pop()

    def __getitem__(self, key: str) -> str:
        layer = self._layer()
        if layer is not None and key in layer:
            value = layer[key]
            if value is _DELETED:
                raise KeyError(key)
            return value
        return self.real[key]

    def __setitem__(self, key: str, value: str) -> None:
        if not isinstance(key, str) or not isinstance(value, str):
            raise TypeError(f"str expected, not {type(key).__name__ if not isinstance(key, str) else type(value).__name__}")
        layer = self._layer()
        if layer is None:
            self.real[key] = value
        else:
            layer[key] = value

    def __delitem__(self, key: str) -> None:
        layer = self._layer()
        if layer is None:
            del self.real[key]
            return
        if key not in self:
            raise KeyError(key)
        layer[key] = _DELETED

    def __iter__(self) -> Iterator[str]:
        layer = self._layer()
        if layer is None:
            yield from list(self.real)
            return
        for key in list(self.real):
            if key not in layer:
                yield key
        for key, value in list(layer.items()):
            if value is not _DELETED:
                yield key

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __contains__(self, key: object) -> bool:
        try:
            self[key]  # type: ignore[index]
        except KeyError:
            return False
        return True

    def copy(self) -> dict[str, str]:
        return dict(self.items())

    def __repr__(self) -> str:
        return f"EnvironOverlay({self.copy()!r})"


_install_lock = threading.Lock()
_INHERITED = "_tiktok_sync_local_environ_layer"
_original_start = threading.Thread.start


def install() -> EnvironOverlay:
    """Replace `os.environ` with an overlay on the current one; returns it."""
    with _install_lock:
        if isinstance(os.environ, EnvironOverlay):
            raise RuntimeError("an environment overlay is already installed")
        overlay = EnvironOverlay(os.environ)
        os.environ = overlay  # type: ignore[assignment]  # noqa: B003 - replacing, on purpose

        def start(thread: threading.Thread) -> None:
            target = getattr(thread, "_target", None)
            if not str(getattr(target, "__module__", "") or "").startswith("moto."):
                layer = overlay.current()
                if layer is not None:
                    setattr(thread, _INHERITED, layer)
            _original_start(thread)

        threading.Thread.start = start  # type: ignore[method-assign]
        return overlay


def uninstall(overlay: EnvironOverlay) -> None:
    """Put the real `os.environ` (and `Thread.start`) back."""
    with _install_lock:
        if os.environ is overlay:
            threading.Thread.start = _original_start  # type: ignore[method-assign]
            os.environ = overlay.real  # type: ignore[assignment]  # noqa: B003
