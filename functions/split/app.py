"""Split Lambda, two shapes (DESIGN §1–§2).

* S3 event (`Records`): claims the run for each object under incoming/<destination>/ and starts
  the state machine execution named by its run id. Returns {"started": [...], "skipped": [...]}.
* State machine task ({"input": <execution input>, "execution": <name>}): the Plan step — streams
  the file into parts of hashed records, rejects and a manifest. Returns the plan; raises
  ConfigError / BadFileError / SourceNotFoundError for a run that cannot start.
"""

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers

from tiktok_sync.environment import Environment
from tiktok_sync.pipeline.plan import plan, start_from_s3

logger = Logger()
copy_config_to_registered_loggers(source_logger=logger, include={"tiktok_sync"})  # library logs as JSON too
tracer = Tracer()
ENV = Environment.load()


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event, context):
    if "Records" in event:
        return start_from_s3(event, ENV)
    return plan(event, ENV)
