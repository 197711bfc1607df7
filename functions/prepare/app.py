"""Prepare Lambda: once per run, before any part is sent.

Input {"run": <plan.run>}. Audiences: returns {"audience_id", "created"} (finds by exact name or
creates; remove mode never creates). Offline events: checks the token. Raises the TikTok named
errors (InvalidCredentialsError, MissingPermissionError, AdvertiserNotFoundError, …).
"""

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers

from tiktok_sync.environment import Environment
from tiktok_sync.pipeline.clients import client_for
from tiktok_sync.pipeline.prepare import prepare

logger = Logger()
copy_config_to_registered_loggers(source_logger=logger, include={"tiktok_sync"})  # library logs as JSON too
tracer = Tracer()
ENV = Environment.load()


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event, context):
    return prepare(event, ledger_table=ENV.ledger_table, client_factory=client_for)
