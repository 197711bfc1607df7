"""Split Lambda: the S3 trigger, and the state machine's planning and splitting tasks (DESIGN §1–§2, §9).

* S3 event (`Records`): a data file directly under incoming/<destination>/ starts a one-file run; an
  export folder's `_SUCCESS` or manifest marker starts one run over the folder. Claims the run and
  starts the execution named by its run id. Returns {"started": [...], "skipped": [...]}.
* {"action": "plan", "input": <execution input>, "execution"}: resolve and claim the run, cut its
  files into pieces. Raises ConfigError / BadFileError / SourceNotFoundError for a run that cannot start.
* {"action": "scan", "item", "run"}: one item of the Scan map over big files — a byte range's quote
  state transfer, or a big gzip file inflated into plain chunks ({"action": "record_scan_failure"} is
  its Catch); {"action": "cut", "plan"} then cuts the pieces.
* {"action": "split", "piece", "run"}: one item of the Split map — a piece's rows validated, hashed and
  written by partition. Raises BadFileError for a file that cannot be read, FileTooLargeError for a
  piece that would not finish in time.
* {"action": "record_piece_failure", "piece", "run", "error"}: the Split item's Catch.
* {"action": "merge", "plan"}: the pieces' totals, the reject-share check, the Send map's items.
"""

from tiktok_sync.lambda_entry import ENV, handler
from tiktok_sync.pipeline.pieces import cut, record_scan_failure, scan
from tiktok_sync.pipeline.plan import plan, start_from_s3
from tiktok_sync.pipeline.split import merge, record_piece_failure, split_piece


@handler
def lambda_handler(event, context):
    if "Records" in event:
        return start_from_s3(event, ENV)
    action = event.get("action", "plan")
    if action == "split":
        return split_piece(event, remaining_ms=context.get_remaining_time_in_millis)
    if action == "record_piece_failure":
        return record_piece_failure(event)
    if action == "merge":
        return merge(event)
    if action == "scan":
        return scan(event, remaining_ms=context.get_remaining_time_in_millis)
    if action == "record_scan_failure":
        return record_scan_failure(event)
    if action == "cut":
        return cut(event)
    return plan(event, ENV)
