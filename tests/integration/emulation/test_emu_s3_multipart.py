"""A multipart upload completes on the emulated S3 one part at a time: the whole object is never in
memory, and the ETag, checksum and bytes are moto's own."""

import hashlib
import tracemalloc

import pytest

pytestmark = pytest.mark.integration

PART = 6 * 1024 * 1024  # over S3's 5 MB minimum part size


def test_a_completed_multipart_upload_holds_one_part_at_a_time(aws):
    bucket = aws.resources["DataBucket"]
    s3 = aws.client("s3")
    parts = [bytes([n]) * PART for n in (1, 2, 3, 4)]
    size = sum(map(len, parts))
    upload = s3.create_multipart_upload(Bucket=bucket, Key="work/multi.bin")["UploadId"]
    etags = [s3.upload_part(Bucket=bucket, Key="work/multi.bin", UploadId=upload, PartNumber=n + 1,
                            Body=body)["ETag"] for n, body in enumerate(parts)]

    tracemalloc.start()
    try:
        done = s3.complete_multipart_upload(
            Bucket=bucket, Key="work/multi.bin", UploadId=upload,
            MultipartUpload={"Parts": [{"PartNumber": n + 1, "ETag": e} for n, e in enumerate(etags)]})
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < size / 2  # moto's own join held four copies of the object at once

    md5s = b"".join(bytes.fromhex(e.strip('"')) for e in etags)
    assert done["ETag"].strip('"') == f"{hashlib.md5(md5s).hexdigest()}-4"  # noqa: S324 - S3's multipart ETag
    body = s3.get_object(Bucket=bucket, Key="work/multi.bin")["Body"].read()
    assert body == b"".join(parts)


def test_a_multipart_upload_with_a_wrong_part_is_refused(aws):
    bucket = aws.resources["DataBucket"]
    s3 = aws.client("s3")
    upload = s3.create_multipart_upload(Bucket=bucket, Key="work/bad.bin")["UploadId"]
    s3.upload_part(Bucket=bucket, Key="work/bad.bin", UploadId=upload, PartNumber=1, Body=b"x" * 10)
    with pytest.raises(s3.exceptions.ClientError) as err:
        s3.complete_multipart_upload(Bucket=bucket, Key="work/bad.bin", UploadId=upload,
                                     MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": '"0" '}]})
    assert err.value.response["Error"]["Code"] == "InvalidPart"


@pytest.mark.parametrize("algorithm, kind", [(None, None), ("CRC32", "FULL_OBJECT"), ("SHA256", "FULL_OBJECT"),
                                             ("SHA1", "COMPOSITE"), ("CRC32", "COMPOSITE")])
def test_a_completed_upload_has_moto_s_own_etag_and_checksum(aws, algorithm, kind):
    from moto.s3.models import FakeMultipart, s3_backends

    from tiktok_sync_local.emulation.patches import S3MultipartCompletePatch

    patch = next(p for p in aws._patches if isinstance(p, S3MultipartCompletePatch))
    own = patch.original(FakeMultipart, "complete")  # moto's complete
    bucket = aws.resources["DataBucket"]
    s3 = aws.client("s3")
    upload = s3.create_multipart_upload(Bucket=bucket, Key="work/sum.bin")["UploadId"]
    etags = [s3.upload_part(Bucket=bucket, Key="work/sum.bin", UploadId=upload, PartNumber=n + 1,
                            Body=bytes([n + 7]) * (PART if n < 2 else 1000))["ETag"] for n in range(3)]
    multipart = s3_backends[aws.account_id]["aws"].get_bucket(bucket).multiparts[upload]
    for name, value in (("x-amz-checksum-algorithm", algorithm), ("x-amz-checksum-type", kind)):
        if value:
            multipart.metadata[name] = value
    body = [(n + 1, e) for n, e in enumerate(etags)]
    value, etag, checksum = multipart.complete(iter(body))
    expected_value, expected_etag, expected_checksum = own(multipart, iter(body))
    assert (etag, checksum, len(value)) == (expected_etag, expected_checksum, len(expected_value))


def test_uploaded_parts_are_freed_without_waiting_for_a_garbage_collection(aws):
    import gc

    bucket = aws.resources["DataBucket"]
    s3 = aws.client("s3")
    upload = s3.create_multipart_upload(Bucket=bucket, Key="work/freed.bin")["UploadId"]
    was_enabled = gc.isenabled()
    gc.disable()  # only reference counting frees anything now
    tracemalloc.start()
    try:
        for n in (1, 2, 3, 4):
            s3.upload_part(Bucket=bucket, Key="work/freed.bin", UploadId=upload, PartNumber=n, Body=bytes([n]) * PART)
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        if was_enabled:
            gc.enable()
    # moto's request for each call and its WSGI environ form a cycle holding the body twice: 48 MB
    # for these four parts until a full collection (the parts themselves are in files past 5 MB)
    assert held < PART
