"""Named errors. Their class names are API: the state machine's Retry and Catch match them.

Three families:

* input and configuration, permanent for the whole run: `ConfigError`, `BadFileError`;
* TikTok API errors (`TikTokApiError`), split into retryable ones (`RateLimitedError`,
  `TransientApiError`, `AudienceNotReadyError`) and permanent ones (`InvalidCredentialsError`,
  `MissingPermissionError`, `AdvertiserNotFoundError`, `AudienceNotFoundError`, `InvalidRequestError`);
* pipeline outcomes (`RunFailedError`, `PartsFailedError`).

Every error carries a one-line `action` telling the user what to do. Messages never contain
plaintext emails, phone numbers or tokens.
"""

from __future__ import annotations


class TikTokSyncError(Exception):
    """Base of every error this package raises on purpose."""

    action: str = "See the message."

    def __init__(self, message: str, *, action: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if action is not None:
            self.action = action

    def to_dict(self) -> dict:
        return {"error": type(self).__name__, "message": self.message, "action": self.action}


# --- input and configuration -------------------------------------------------------------------


class ConfigError(TikTokSyncError):
    """The destinations file (or an environment setting) is invalid."""

    action = ("Fix the destinations file, then resume the run (StartExecution with options.resume, "
              "events/statemachine/console-resume.json): dropping the same file again does nothing.")


class BadFileError(TikTokSyncError):
    """An input file that cannot be read as a whole (binary, not UTF-8, empty, no header, ...)."""

    action = "Fix the file (see the message) and upload the fixed file; nothing was sent."


class SourceNotFoundError(TikTokSyncError):
    """The run's source object (or the newest object under a prefix) does not exist."""

    action = "Check the bucket and key (or prefix) in the run input; nothing was sent."


class SourceChangedError(TikTokSyncError):
    """A file of the run was replaced or deleted between the plan and its reading: the run stops rather
    than read other bytes under the first content's run id."""

    action = ("Let the export finish before the run starts (drop a _SUCCESS marker or a manifest last), then "
              "start the run again: the new content is a new run. Nothing was sent.")


# --- TikTok API ----------------------------------------------------------------------------------


class TikTokApiError(TikTokSyncError):
    """An error answer from TikTok (or no usable answer at all)."""

    retryable = False
    action = "See TikTok's message; quote the request_id to TikTok support if it persists."

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        request_id: str | None = None,
        http_status: int | None = None,
        endpoint: str | None = None,
        action: str | None = None,
    ) -> None:
        super().__init__(message, action=action)
        self.code = code
        self.request_id = request_id
        self.http_status = http_status
        self.endpoint = endpoint

    def __str__(self) -> str:
        parts = [self.message]
        if self.code is not None:
            parts.append(f"code={self.code}")
        if self.http_status is not None and self.http_status != 200:
            parts.append(f"http={self.http_status}")
        if self.endpoint:
            parts.append(f"endpoint={self.endpoint}")
        if self.request_id:
            parts.append(f"request_id={self.request_id}")
        return " ".join([parts[0]] + ([f"({', '.join(parts[1:])})"] if len(parts) > 1 else [])) + (
            f" Action: {self.action}" if self.action else ""
        )

    def to_dict(self) -> dict:
        out = super().to_dict()
        out.update(code=self.code, request_id=self.request_id, http_status=self.http_status, endpoint=self.endpoint)
        return out


class RetryableApiError(TikTokApiError):
    retryable = True


class RateLimitedError(RetryableApiError):
    """40100-family codes or HTTP 429: the app's request quota is exhausted for now."""

    action = "Rate limited by TikTok: backed off and retried; lower MapConcurrency or TikTokQps if it persists."


class TransientApiError(RetryableApiError):
    """TikTok-side failure worth retrying: 5xx, 50000/50002/60001/402xx/40700, timeouts, non-JSON bodies."""

    action = "TikTok had a temporary problem: retried with backoff; redrive the run if it persists."


class AudienceNotReadyError(RetryableApiError):
    """A just-created segment audience is not yet accepted by segment/mapping/ (first minutes)."""

    action = "The audience was just created and TikTok is not ready for it yet: retried for a few minutes."


class PermanentApiError(TikTokApiError):
    retryable = False


class InvalidCredentialsError(PermanentApiError):
    """The access token is missing, invalid, revoked or expired (40104/40105/40102/40103/40107/40110/40114)."""

    action = (
        "Re-authorize: run `tiktok-sync authorize` (or repeat the OAuth flow) and store the new token "
        "in the credentials secret."
    )


class MissingPermissionError(PermanentApiError):
    """40001 family: the token has no permission on this advertiser, event set or endpoint."""

    action = (
        "Grant access: the authorizing user needs Admin or Operator on the ad account and the app needs "
        "the Audience Management / Events scopes; re-authorize with those scopes."
    )


class AdvertiserNotFoundError(PermanentApiError):
    """403xx: the advertiser id does not exist or the token's user has no role on it."""

    action = "Check advertiser_ids in the destinations file (Ads Manager shows the id after 'aadvid=')."


class AudienceNotFoundError(PermanentApiError):
    """The audience to remove members from does not exist (mode remove never creates one)."""

    action = "Check audience_name in the destinations file; remove mode never creates an audience."


class InvalidRequestError(PermanentApiError):
    """400xx: TikTok refused the request as invalid; retrying the same request cannot help."""

    action = "TikTok refused the request as invalid; check the destination settings named in the message."


# --- pipeline outcomes ---------------------------------------------------------------------------


class RunFailedError(TikTokSyncError):
    """The run ended FAILED: nothing was sent (bad file, bad config, credentials)."""


class PartTimeoutError(TikTokSyncError):
    """The sender stopped before its Lambda timeout; the state machine's Retry continues the part
    (the ledger skips the batches already delivered)."""

    action = "Nothing to do: the part continues in a new invocation."


class FileTooLargeError(TikTokSyncError):
    """A split worker would not finish its piece within its Lambda's time (or disk): the limit is named."""

    action = ("Export the data as several smaller files (Redshift UNLOAD MAXFILESIZE, Snowflake MAX_FILE_SIZE, "
              "BigQuery writes ≤ 1 GB files) or lower SplitPieceBytes; nothing was sent.")


class TooManyRejectsError(TikTokSyncError):
    """More than the destination's `max_reject_share` of the rows read were rejected: nothing is sent."""

    action = ("Read the rejects file and fix the export (or the destination's columns/preset/timezone); "
              "raise max_reject_share on the destination if so many rejects are expected. Nothing was sent.")


class DeleteGuardError(TikTokSyncError):
    """A mirror run would delete more than `max_delete_share` of the audience: nothing is sent."""

    action = ("Check the file is complete. If the deletes are meant, start the same source again with "
              "options.allow_deletes (tiktok-sync run --allow-deletes). Nothing was sent.")


class AudienceLockedError(TikTokSyncError):
    """Another run holds the lock for creating this audience; the state machine retries later."""

    action = "Nothing to do: another run is finding or creating the same audience; this run waits and retries."


class MirrorLockedError(TikTokSyncError):
    """Another run of the same mirror destination is going on (two diffs of one snapshot would clobber
    it); the state machine retries until it ends."""

    action = "Nothing to do: another mirror run of this destination is going on; this run waits and retries."


class PartsFailedError(TikTokSyncError):
    """The run ended PARTIAL: some parts failed for good after retries."""

    action = "Fix the cause in the report, then resume the run: nothing already sent is sent again."


class ReportFailedError(TikTokSyncError):
    """The report step failed after its retries: the execution fails with this name (the FailedRunsAlarm
    sees it) and the cause; no report.json was written for this execution."""

    action = ("Read the ReportFunction's log for the cause, then resume the run (StartExecution with "
              "options.resume): nothing already sent is sent again, and the report is written.")


class UnaccountedRowsError(TikTokSyncError):
    """The run's counts do not add up (read != sent + rejected + skipped + failed): some rows' fate is
    unknown, so the run is not reported SUCCEEDED. The missing rows are counted as failed."""

    action = ("Resume the run (nothing already sent is sent again) and report the run id as a bug: "
              "every row should end sent, rejected, skipped or failed.")


RETRYABLE_ERROR_NAMES = ("RateLimitedError", "TransientApiError", "AudienceNotReadyError", "PartTimeoutError",
                         "AudienceLockedError", "MirrorLockedError")
LOCK_ERROR_NAMES = ("AudienceLockedError", "MirrorLockedError")  # retried by the Prepare step only
