"""What every pipeline handler wraps itself in: Powertools logging (the library's logs too, as
JSON), tracing, and the environment validated once at cold start.

    from tiktok_sync.lambda_entry import ENV, handler

    @handler
    def lambda_handler(event, context):
        return plan(event, ENV)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers

from .environment import Environment

logger = Logger()
tracer = Tracer()
copy_config_to_registered_loggers(source_logger=logger, include={"tiktok_sync"})
ENV = Environment.load()


def handler(fn: Callable[[dict, Any], Any]) -> Callable[[dict, Any], Any]:
    """Log with the Lambda context (never the event: it may name files), trace without responses."""
    return logger.inject_lambda_context(log_event=False)(tracer.capture_lambda_handler(capture_response=False)(fn))
