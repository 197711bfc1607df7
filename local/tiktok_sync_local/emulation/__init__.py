"""Local AWS emulation: the real template.yaml and state machine on moto, in-process, no Docker.

    from tiktok_sync_local.emulation import LocalAws

    with LocalAws("template.yaml", parameters={"Stage": "dev"}, retry_sleep=0) as aws:
        aws.resources, aws.outputs, aws.parameters      # what Ref returns / resolved Outputs / Parameters
        aws.template                                    # the CloudFormation SAM's transform produced
        aws.client("s3").put_object(...)                # the S3 trigger runs the split handler inside put_object
        aws.invoke("SplitFunction", event)              # -> result, or raises LambdaInvokeError(error_type, message)
        aws.fire_rule("TokenRefreshSchedule")           # EventBridge never fires in moto: deliver by hand
        aws.wait_for_execution(arn, on_poll=print)      # -> describe_execution once it leaves RUNNING
        aws.invocations                                 # every handler run: function, event, result|error, ...
        aws.iam.denials                                 # every call a role was refused
        aws.client_as(role_arn, "Label", "s3")          # a client signed by a session of one of the stack's roles
        aws.delete(); aws.deploy()                      # delete the stack (DeletionPolicy honoured), create it again

The stack is what AWS would deploy: AWS's own SAM transform (aws-sam-translator) turns the template
into CloudFormation (Globals, implicit roles with the policies SAM generates, permissions, event
sources), and each resource of that is created with its service's API in dependency order.

Modules: `template` (YAML, Parameters, order), `translate` (the SAM transform), `intrinsics`
(Ref/Fn::*, Conditions), `deploy` (boto3 calls per resource type, Outputs, delete), `iam` (roles'
credentials, the authorization check), `dispatch` (handlers run in-process, asynchronous tries and
destinations), `environ` (thread-local os.environ), `patches` (moto/botocore patches), `session`
(LocalAws).

What differs from AWS (design around these; details in research/local-aws.md):
- IAM: identity policies are enforced (each function and the state machine under its own role);
  resource policies (bucket, queue, key, function policies), permission boundaries and SCPs are not.
- Handlers run in this interpreter: no Runtime, memory or Timeout enforcement, packages come from
  the local environment (layers not in the template are not fetched); moto holds a placeholder zip.
- Each function gets private copies of its code and layer modules (as with one process per
  function), swapped into sys.modules while it runs; an import done lazily inside a handler while
  another function runs concurrently can see that function's copy. boto3's default session and
  Powertools' default parameter providers are per function too.
- S3 notifications run the handler synchronously inside put_object (three tries, then the
  on-failure destination, without the minutes between tries).
- Schedules never fire (use fire_rule). Generated names are `<stack>-<LogicalId>`, not random.
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
