"""Which objects a run reads (DESIGN §2, a contract).

A run reads a set of files, read as if concatenated (each with its own header row when the
destination has headers). The set comes from

* an S3 drop directly under `incoming/<destination>/`: that one object;
* a **marker** in an export folder `incoming/<destination>/<folder>/`: `_SUCCESS` (Spark, dbt, many
  orchestrators) → every data file of the folder; a Redshift manifest (a key ending in `manifest`,
  JSON `{"entries": [{"url": "s3://…"}]}`) → its entries;
* a console or scheduled start: `{"bucket","key"}`, `{"bucket","keys":[…]}`, `{"bucket","prefix"}` (the
  newest data file under the prefix), `{"bucket","prefix","all":true}` (every data file under it),
  `{"bucket","manifest"}`.

What is data is decided by name only to leave out what never is: markers, folder placeholders,
zero-byte objects, and the by-products engines write next to their output — Hadoop's rule: names
starting with `_` or `.` (`_SUCCESS`, `_committed_…`, `_started_…`, `.part-0.crc`) — plus `.crc`
files. Everything else is read and recognized by content (gzip by its magic bytes, text otherwise),
whatever its name: `0000_part_00`, `data_0_0_0.csv.gz`, `export-000000000000.csv`.
"""

from __future__ import annotations

import json
import posixpath
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from .. import aws
from ..errors import BadFileError, ConfigError, SourceChangedError, SourceNotFoundError

INCOMING = "incoming/"
MANIFEST_SUFFIX = "manifest"
SUCCESS_MARKER = "_SUCCESS"


@dataclass(frozen=True)
class SourceFile:
    """One object of a run, pinned to its content (ETag) and version."""

    bucket: str
    key: str
    etag: str
    version_id: str = ""
    size: int = 0

    def to_dict(self) -> dict:
        return {"bucket": self.bucket, "key": self.key, "etag": self.etag, "version_id": self.version_id,
                "size": self.size}

    @classmethod
    def from_dict(cls, d: dict) -> SourceFile:
        return cls(bucket=d["bucket"], key=d["key"], etag=d.get("etag", "").strip('"'),
                   version_id=d.get("version_id", "") or "", size=int(d.get("size", 0) or 0))

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    @property
    def display_name(self) -> str:
        """How rejects and reports name the file: the key relative to `incoming/` (DESIGN §6), or
        the full URI for objects outside the drop area."""
        if self.key.startswith(INCOMING):
            return self.key[len(INCOMING):]
        return self.uri


# --- names --------------------------------------------------------------------------------------


def basename(key: str) -> str:
    return posixpath.basename(key)


def is_marker(key: str) -> bool:
    """`_SUCCESS`, or a Redshift manifest (a key ending in `manifest`)."""
    name = basename(key)
    return name == SUCCESS_MARKER or name.lower().endswith(MANIFEST_SUFFIX)


def is_data_key(key: str, size: int | None = None) -> bool:
    """Could this object hold rows? False for markers, placeholders, by-products and empty objects."""
    name = basename(key)
    if not name or key.endswith("/"):
        return False
    if name.startswith(("_", ".")) or name.lower().endswith(".crc") or is_marker(key):
        return False
    return size is None or size > 0


def destination_and_rest(key: str) -> tuple[str, str] | None:
    """`incoming/<destination>/<rest…>` → (destination, rest); None outside that shape."""
    if not key.startswith(INCOMING):
        return None
    dest, sep, rest = key[len(INCOMING):].partition("/")
    if not sep or not dest or not rest:
        return None
    return dest, rest


def marker_folder(key: str) -> str:
    """The folder a marker stands for (its parent prefix, with the trailing slash)."""
    return key.rsplit("/", 1)[0] + "/"


# --- S3 -------------------------------------------------------------------------------------------


def _denied(uri: str) -> SourceNotFoundError:
    return SourceNotFoundError(
        f"{uri}: access denied",
        action="Let the split function read it: sources outside the data bucket go in the template parameters "
               "ExtraSourceObjectArns (objects) and ExtraSourceBucketArns (listing); nothing was sent.")


def head(bucket: str, key: str, version_id: str = "") -> SourceFile:
    kwargs: dict[str, Any] = {"Bucket": bucket, "Key": key}
    if version_id:
        kwargs["VersionId"] = version_id
    try:
        meta = aws.s3().head_object(**kwargs)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code")
        if code in ("404", "NoSuchKey", "NotFound", "NoSuchVersion"):
            raise SourceNotFoundError(f"s3://{bucket}/{key} does not exist") from None
        if code in ("403", "AccessDenied", "Forbidden"):
            raise _denied(f"s3://{bucket}/{key}") from None
        raise
    return SourceFile(bucket=bucket, key=key, etag=meta.get("ETag", "").strip('"'),
                      version_id=meta.get("VersionId") or version_id or "", size=int(meta.get("ContentLength", 0)))


def open_source(f: dict, *, start: int | None = None, end: int | None = None) -> Any:
    """The body of a planned file (a `SourceFile.to_dict()`), bytes [start, end) or whole: pinned to the
    version and the content (ETag) the run was planned with, so a file replaced or deleted after the
    plan is refused by name, never read as other bytes under the same run id."""
    kwargs: dict[str, Any] = {"Bucket": f["bucket"], "Key": f["key"]}
    if f.get("version_id"):
        kwargs["VersionId"] = f["version_id"]
    if f.get("etag"):
        kwargs["IfMatch"] = f'"{f["etag"]}"'
    if start is not None and end is not None:
        kwargs["Range"] = f"bytes={start}-{end - 1}"
    uri = f"s3://{f['bucket']}/{f['key']}"
    try:
        return aws.s3().get_object(**kwargs)["Body"]
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code"))
        if code in ("412", "PreconditionFailed"):
            raise SourceChangedError(f"{uri} changed after the run was planned (its content is not the one "
                                     "the run started with)") from None
        if code in ("404", "NoSuchKey", "NotFound", "NoSuchVersion"):
            raise SourceChangedError(f"{uri} was deleted after the run was planned") from None
        if code in ("403", "AccessDenied", "Forbidden") or code.startswith("KMS."):
            raise _denied(uri) from None
        raise


def list_objects(bucket: str, prefix: str) -> list[dict]:
    out: list[dict] = []
    try:
        for page in aws.s3().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            out.extend(page.get("Contents", []))
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("403", "AccessDenied", "Forbidden"):
            raise _denied(f"s3://{bucket}/{prefix}") from None
        if exc.response.get("Error", {}).get("Code") == "NoSuchBucket":
            raise SourceNotFoundError(f"bucket {bucket!r} does not exist") from None
        raise
    return out


def _from_listing(bucket: str, obj: dict) -> SourceFile:
    return SourceFile(bucket=bucket, key=obj["Key"], etag=str(obj.get("ETag", "")).strip('"'),
                      size=int(obj.get("Size", 0)))


def data_files_under(bucket: str, prefix: str) -> list[SourceFile]:
    """Every data object under `prefix`, in key order (the order warehouses number their parts)."""
    files = [_from_listing(bucket, o) for o in list_objects(bucket, prefix) if is_data_key(o["Key"], o.get("Size"))]
    if not files:
        raise SourceNotFoundError(f"no data file under s3://{bucket}/{prefix} (markers, by-products and empty "
                                  "objects are not data)")
    return sorted(files, key=lambda f: f.key)


def newest_under(bucket: str, prefix: str) -> SourceFile:
    objs = [o for o in list_objects(bucket, prefix) if is_data_key(o["Key"], o.get("Size"))]
    if not objs:
        raise SourceNotFoundError(f"no data file under s3://{bucket}/{prefix}")
    newest = max(objs, key=lambda o: (o["LastModified"], o["Key"]))
    return head(bucket, newest["Key"])


def parse_s3_url(url: str) -> tuple[str, str]:
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme != "s3" or not parsed.netloc or not parsed.path.strip("/"):
        raise ConfigError(f"manifest entry {url[:200]!r} is not an s3://bucket/key URL")
    return parsed.netloc, urllib.parse.unquote(parsed.path.lstrip("/"))


def manifest_files(bucket: str, key: str) -> list[SourceFile]:
    """A Redshift UNLOAD manifest's entries, each pinned by a HEAD (mandatory or not, all must exist)."""
    try:
        body = aws.s3().get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code")
        if code in ("404", "NoSuchKey"):
            raise SourceNotFoundError(f"manifest s3://{bucket}/{key} does not exist") from None
        if code in ("403", "AccessDenied"):
            raise _denied(f"s3://{bucket}/{key}") from None
        raise
    try:
        doc = json.loads(body.decode("utf-8-sig"))
        entries = doc["entries"]
        urls = [e["url"] for e in entries]
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise ConfigError(f"s3://{bucket}/{key} is not a manifest: expected JSON {{\"entries\": [{{\"url\": "
                          "\"s3://…\"}}]}}", action="Point the run at the manifest Redshift UNLOAD … MANIFEST "
                          "wrote, or use {\"bucket\", \"prefix\", \"all\": true}.") from None
    if not urls:
        raise SourceNotFoundError(f"manifest s3://{bucket}/{key} lists no file")
    targets = [parse_s3_url(u) for u in urls]
    with ThreadPoolExecutor(max_workers=16) as pool:
        files = list(pool.map(lambda t: head(*t), targets))
    return [f for f in files if f.size > 0]


# --- the run's files -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunSource:
    """What a run reads: its files (pinned), and how they were named in the run input."""

    bucket: str
    files: tuple[SourceFile, ...]
    spec: dict

    def to_dict(self) -> dict:
        return {"bucket": self.bucket, "spec": self.spec, "files": [f.to_dict() for f in self.files]}

    @classmethod
    def from_dict(cls, d: dict) -> RunSource:
        return cls(bucket=d["bucket"], files=tuple(SourceFile.from_dict(f) for f in d["files"]), spec=d.get("spec", {}))

    @property
    def size(self) -> int:
        return sum(f.size for f in self.files)


SPEC_HELP = ('"source" names the files: {"bucket", "key"} | {"bucket", "keys": […]} | {"bucket", "prefix"} | '
             '{"bucket", "prefix", "all": true} | {"bucket", "manifest"}')


def resolve(spec: Any) -> RunSource:
    """The execution input's `source` → the run's files, each pinned by ETag (and version)."""
    if not isinstance(spec, dict) or not isinstance(spec.get("bucket"), str) or not spec["bucket"]:
        raise ConfigError(f"the run input needs {SPEC_HELP}")
    bucket = spec["bucket"]
    if spec.get("key"):
        files = [head(bucket, spec["key"], spec.get("version_id", ""))]
    elif spec.get("keys"):
        keys = spec["keys"]
        if not isinstance(keys, list) or not all(isinstance(k, str) and k for k in keys):
            raise ConfigError(f'"source.keys" must be a list of object keys; {SPEC_HELP}')
        with ThreadPoolExecutor(max_workers=16) as pool:
            files = list(pool.map(lambda k: head(bucket, k), dict.fromkeys(keys)))
    elif spec.get("manifest"):
        files = manifest_files(bucket, spec["manifest"])
    elif "prefix" in spec:
        prefix = spec.get("prefix") or ""
        if not isinstance(prefix, str):
            raise ConfigError(f'"source.prefix" must be a string; {SPEC_HELP}')
        files = data_files_under(bucket, prefix) if spec.get("all") else [newest_under(bucket, prefix)]
    else:
        raise ConfigError(f"the run input's \"source\" names no file; {SPEC_HELP}")
    empty = [f for f in files if f.size == 0]
    if empty and len(empty) == len(files):
        raise BadFileError(f"{empty[0].display_name}: the file is empty")
    files = [f for f in files if f.size > 0] or files
    return RunSource(bucket=bucket, files=tuple(files), spec={k: v for k, v in spec.items() if k != "version_id"})
