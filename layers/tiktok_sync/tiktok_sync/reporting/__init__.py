"""What a person sees of a run: the report rendered as report.md, report.html and the notification.

Pure rendering of the report dict (DESIGN §6; built by pipeline/report.py): no AWS call, no I/O.

    render_markdown(report) -> str                                   report.md
    render_html(report) -> str                                       report.html (self-contained)
    render_notification(report, *, console_url=None) -> (subject, body)   plain-text e-mail
    should_notify(report, notify_on) -> bool                         notify_on: FAILURES | ALL
"""

from .html import render_html
from .markdown import render_markdown
from .notification import NOTIFY_ON, needs_attention, render_notification, should_notify

__all__ = ["NOTIFY_ON", "needs_attention", "render_html", "render_markdown", "render_notification", "should_notify"]
