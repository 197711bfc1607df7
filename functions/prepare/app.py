"""Prepare Lambda: checks the destination before a run reads its files, and prepares it once the
split is done.

* {"action": "check", "input": <execution input>, "execution"}: the destinations file names the
  destination, its token works, TikTok lets it write where it must. Raises the named error
  (ConfigError, InvalidCredentialsError, MissingPermissionError, AdvertiserNotFoundError, …).
* {"run": <plan.run>}: audiences are resolved to one TikTok audience (remembered per destination,
  found by name or created once under a lock); returns {"audience_id", "created", "name", …}.
  Raises AudienceLockedError (retried) while another run holds the audience's lock. A mirror
  destination also gets its snapshot and, for a real run, its mirror lock (MirrorLockedError, retried,
  while another mirror run of the destination goes on).
* {"action": "guard", "run", "merge", "prepare", "execution"}: after a mirror run's comparison with the
  snapshot, before anything is sent: the diff added up, the delete guard, the Send map's items. Returns
  the merge block updated (status FAILED with DeleteGuardError when the guard refuses the run).
"""

from tiktok_sync.lambda_entry import ENV, handler
from tiktok_sync.pipeline.clients import client_for
from tiktok_sync.pipeline.diff import guard
from tiktok_sync.pipeline.prepare import check, prepare


@handler
def lambda_handler(event, context):
    action = event.get("action")
    if action == "check":
        return check(event, ENV, client_factory=client_for)
    if action == "guard":
        return guard(event, ledger_table=ENV.ledger_table)
    return prepare(event, ledger_table=ENV.ledger_table, client_factory=client_for)
