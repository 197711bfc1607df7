"""The SAM transform, done by AWS's own `aws-sam-translator` (what `sam build/deploy` and
CloudFormation run): Globals, policy templates, implicit roles, permissions, event sources...
The local stack is created from its output, the plain CloudFormation AWS would deploy.

`sam package` would upload local `CodeUri` / `ContentUri` / `DefinitionUri` folders to S3 first
(the transform only accepts `s3://` locations); here they become `s3://<LOCAL_PACKAGES>/<path>`
markers that `deploy.py` maps back to the folders, which the handlers run from. Nothing is zipped.

The transform's output is kept, as JSON, in the emulation's cache directory (cache.py), named by
a digest of everything it depends on: the packaged template, the parameter values, the region and
aws-sam-translator's version. A later process deploying the same template reuses it without
importing the transform (importing and running it costs ~0.6 s of every `tiktok-sync run` and
`demo`). A template the transform refuses is never kept.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import threading
from pathlib import Path
from typing import Any

from . import cache
from .errors import TemplateError
from .template import SAM_TRANSFORM

LOCAL_PACKAGES = "tiktok-sync-local-packages"  # a marker, never a bucket

# SAM resource type -> the property naming a local folder or file `sam package` would upload.
_PACKAGED = {
    "AWS::Serverless::Function": "CodeUri",
    "AWS::Serverless::LayerVersion": "ContentUri",
    "AWS::Serverless::StateMachine": "DefinitionUri",
}

_cache_lock = threading.Lock()
_cache: dict[str, dict] = {}  # the transform costs ~0.1 s; sessions in one process reuse it


class _NoManagedPolicies:
    """The transform asks IAM for the AWS managed policy names a template may use (`Policies:
    [AmazonS3ReadOnlyAccess]`); offline there are none (policy templates and ARNs need none)."""

    def load(self) -> dict[str, str]:
        return {}


def is_sam(body: dict) -> bool:
    transform = body.get("Transform")
    return SAM_TRANSFORM in (transform if isinstance(transform, list) else [transform])


def local_path(location: Any, base_dir: Path) -> Path | None:
    """The folder or file a `s3://LOCAL_PACKAGES/...` marker stands for (None for anything else)."""
    prefix = f"s3://{LOCAL_PACKAGES}/"
    if isinstance(location, dict) and location.get("S3Bucket", location.get("Bucket")) == LOCAL_PACKAGES:
        location = prefix + str(location.get("S3Key", location.get("Key")))
    if isinstance(location, str) and location.startswith(prefix):
        return (base_dir / location.removeprefix(prefix)).resolve()
    return None


def translate(body: dict, base_dir: Path, parameter_values: dict[str, Any]) -> dict:
    """The CloudFormation template for a SAM template `body` (a plain template comes back as is).

    `parameter_values` are what CloudFormation hands the transform. Raises TemplateError with the
    transform's own messages for a template AWS would refuse.
    """
    if not is_sam(body):
        return copy.deepcopy(body)
    packaged = _package(body, base_dir)  # names a missing folder first, cached or not
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or ""
    # What the transform sees (the folders are relative markers by now), and what it depends on.
    key = hashlib.sha256(json.dumps([packaged, parameter_values, region, cache.package_version("aws-sam-translator"), _CACHE_FORMAT],
                                    sort_keys=True, default=str).encode()).hexdigest()
    with _cache_lock:
        if key in _cache:
            return copy.deepcopy(_cache[key])
    translated = _read_cached(key)
    if translated is None:
        translated = _transform(packaged, parameter_values)
        _write_cached(key, translated)
    with _cache_lock:
        _cache[key] = translated
    return copy.deepcopy(translated)


def _transform(packaged: dict, parameter_values: dict[str, Any]) -> dict:
    from samtranslator.model.exceptions import InvalidDocumentException
    from samtranslator.translator.transform import transform

    try:
        translated = transform(packaged, dict(parameter_values), _NoManagedPolicies())
    except InvalidDocumentException as exc:
        messages = "; ".join(str(cause) for cause in exc.causes) or str(exc)
        raise TemplateError(f"the SAM transform refused the template: {messages}") from None
    # Plain dicts and lists in the transform's order (it returns its own dict subclasses): what a
    # cached copy is too.
    return json.loads(json.dumps(translated))


_CACHE_FORMAT = 1


def _read_cached(key: str) -> dict | None:
    data = cache.read("sam", key, ".json")
    try:
        loaded = json.loads(data) if data is not None else None
    except ValueError:
        return None  # damaged: translate again
    return loaded if isinstance(loaded, dict) and isinstance(loaded.get("Resources"), dict) else None


def _write_cached(key: str, translated: dict) -> None:
    cache.write("sam", key, ".json", json.dumps(translated).encode())


def _package(body: dict, base_dir: Path) -> dict:
    """A copy of `body` with local code/definition locations replaced by LOCAL_PACKAGES markers."""
    packaged = copy.deepcopy(body)
    function_globals = (packaged.get("Globals") or {}).get("Function") or {}
    if isinstance(function_globals.get("CodeUri"), str):
        function_globals["CodeUri"] = _marker("Globals.Function.CodeUri", function_globals["CodeUri"], base_dir)
    for logical_id, resource in packaged["Resources"].items():
        key = _PACKAGED.get(resource.get("Type")) if isinstance(resource, dict) else None
        properties = resource.get("Properties") or {} if key else {}
        if key and isinstance(properties.get(key), str) and not properties[key].startswith("s3://"):
            properties[key] = _marker(f"{logical_id}.{key}", properties[key], base_dir)
    return packaged


def _marker(where: str, location: str, base_dir: Path) -> str:
    path = (base_dir / location).resolve()
    if not path.exists():
        raise TemplateError(f"{where}: {path} does not exist")
    return f"s3://{LOCAL_PACKAGES}/{Path(os.path.relpath(path, base_dir.resolve())).as_posix()}"
