"""Local AWS emulation: the real template.yaml and state machine on moto, in-process, no Docker.

    from tiktok_sync_local.emulation import LocalAws

    with LocalAws("template.yaml", parameters={"Stage": "dev"}, retry_sleep=0) as aws:
        aws.resources, aws.outputs, aws.parameters      # what Ref returns / resolved Outputs / Parameters
        aws.client("s3").put_object(...)                # the S3 trigger runs the split handler inside put_object
        aws.invoke("SplitFunction", event)              # -> result, or raises LambdaInvokeError(error_type, message)
        aws.fire_rule("TokenRefreshSchedule")           # EventBridge never fires in moto: deliver by hand
        aws.wait_for_execution(arn, on_poll=print)      # -> describe_execution once it leaves RUNNING
        aws.invocations                                 # every handler run: function, event, result|error, ...

Modules: `template` (YAML, Parameters, Globals, order), `intrinsics` (Ref/Fn::*, Conditions),
`deploy` (boto3 calls per resource type, events, Outputs), `dispatch` (handlers run in-process),
`environ` (thread-local os.environ), `patches` (moto interpreter patches), `session` (LocalAws).

What differs from AWS (design around these; details in research/local-aws.md):
- IAM is not evaluated (one shared role per service); resource policies (bucket, topic, queue) are not applied.
- Handlers run in this interpreter: no Runtime, memory or Timeout enforcement, packages come from
  the local environment (layers not in the template are not fetched), threads a handler starts see
  the real environment rather than the function's.
- Each function gets private copies of its code and layer modules (as with one process per
  function), swapped into sys.modules while it runs; an import done lazily inside a handler while
  another function runs concurrently can see that function's copy.
- S3 notifications run the handler synchronously inside put_object, swallow its errors (see
  `invocations`), and quote_plus the key including "/" -> "%2F": use urllib.parse.unquote_plus.
- Schedules never fire (use fire_rule). ScheduleV2 becomes an EventBridge rule, not a Scheduler schedule.
"""

from .deploy import Deployment
from .dispatch import FunctionSpec, LambdaContext
from .errors import EmulationError, LambdaInvokeError, TemplateError
from .patches import RetrySleep
from .session import LocalAws

__all__ = [
    "Deployment",
    "EmulationError",
    "FunctionSpec",
    "LambdaContext",
    "LambdaInvokeError",
    "LocalAws",
    "RetrySleep",
    "TemplateError",
]
