"""Renamed to `pacer`; this module keeps the names older imports use (pipeline/clients.py,
tiktok/events.py) until they import `tiktok_sync.tiktok.pacer` directly."""

from .pacer import EVENTS, MARKETING, reset_registry

__all__ = ["EVENTS", "MARKETING", "reset_registry"]
