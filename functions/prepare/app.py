"""Prepare Lambda: once per run, before any part is sent.

Input {"run": <plan.run>}. Audiences: returns {"audience_id", "created"} (finds by exact name or
creates; remove mode never creates). Offline events: checks the token. Raises the TikTok named
errors (InvalidCredentialsError, MissingPermissionError, AdvertiserNotFoundError, …).
"""

from tiktok_sync.lambda_entry import ENV, handler
from tiktok_sync.pipeline.clients import client_for
from tiktok_sync.pipeline.prepare import prepare


@handler
def lambda_handler(event, context):
    return prepare(event, ledger_table=ENV.ledger_table, client_factory=client_for)
