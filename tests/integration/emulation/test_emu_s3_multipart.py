"""A multipart upload completes on the emulated S3 with the object's bytes held once, not twice."""

import hashlib
import tracemalloc

import pytest

pytestmark = pytest.mark.integration

PART = 6 * 1024 * 1024  # over S3's 5 MB minimum part size


def test_a_completed_multipart_upload_holds_the_object_once(aws):
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
    assert peak < 1.5 * size  # moto's own join held two copies (2x the object) at once

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
