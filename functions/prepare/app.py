"""Prepare Lambda: checks the destination before a run reads its files, and prepares it once the
split is done.

* {"action": "check", "input": <execution input>, "execution"}: the destinations file names the
  destination, its token works, TikTok lets it write where it must. Raises the named error
  (ConfigError, InvalidCredentialsError, MissingPermissionError, AdvertiserNotFoundError, …).
* {"run": <plan.run>}: audiences are resolved to one TikTok audience (remembered per destination,
  found by name or created once under a lock); returns {"audience_id", "created", "name", …}.
  Raises AudienceLockedError (retried) while another run holds the audience's lock.
"""

from tiktok_sync.lambda_entry import ENV, handler
from tiktok_sync.pipeline.clients import client_for
from tiktok_sync.pipeline.prepare import check, prepare


@handler
def lambda_handler(event, context):
    if event.get("action") == "check":
        return check(event, ENV, client_factory=client_for)
    return prepare(event, ledger_table=ENV.ledger_table, client_factory=client_for)
