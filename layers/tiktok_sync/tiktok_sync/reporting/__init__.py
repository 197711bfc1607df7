"""What a person sees of a run: the report rendered as report.md, report.html and the notification.

Pure rendering of the report dict (DESIGN §6; built by pipeline/report.py): no AWS call, no I/O.

    render_markdown(report) -> str                                   report.md
    render_html(report) -> str                                       report.html (self-contained)
"""

from .html import render_html
from .markdown import render_markdown

__all__ = ["render_html", "render_markdown"]
