"""Split Lambda, two shapes (DESIGN §1–§2).

* S3 event (`Records`): claims the run for each object under incoming/<destination>/ and starts
  the state machine execution named by its run id. Returns {"started": [...], "skipped": [...]}.
* State machine task ({"input": <execution input>, "execution": <name>}): the Plan step — streams
  the file into parts of hashed records, rejects and a manifest. Returns the plan; raises
  ConfigError / BadFileError / SourceNotFoundError for a run that cannot start.
"""

from tiktok_sync.lambda_entry import ENV, handler
from tiktok_sync.pipeline.plan import plan, start_from_s3


@handler
def lambda_handler(event, context):
    if "Records" in event:
        return start_from_s3(event, ENV)
    return plan(event, ENV)
