"""Ranged GETs on the emulated S3 read only the bytes asked for, and answer as moto answers them."""

import pytest
from botocore.exceptions import ClientError
from moto.s3.models import s3_backends

pytestmark = pytest.mark.integration

BODY = bytes(range(256)) * 40_000  # 10 MB: past moto's in-memory buffer, spooled to disk


class _Reads:
    """A key's buffer that records how many bytes each read asked for."""

    def __init__(self, inner):
        self.inner, self.sizes = inner, []

    def read(self, size=-1):
        data = self.inner.read(size)
        self.sizes.append(len(data))
        return data

    def __getattr__(self, name):
        return getattr(self.inner, name)


def _key(aws, bucket, name):
    return s3_backends[aws.account_id]["aws"].get_object(bucket, name)


def test_a_ranged_get_reads_only_its_range(aws):
    bucket = aws.resources["DataBucket"]
    s3 = aws.client("s3")
    s3.put_object(Bucket=bucket, Key="work/big.bin", Body=BODY)
    key = _key(aws, bucket, "work/big.bin")
    spy = key._value_buffer = _Reads(key._value_buffer)

    got = s3.get_object(Bucket=bucket, Key="work/big.bin", Range="bytes=1000-1999")
    assert got["Body"].read() == BODY[1000:2000]
    assert got["ContentRange"] == f"bytes 1000-1999/{len(BODY)}"
    assert got["ContentLength"] == 1000
    assert got["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert spy.sizes == [1000]  # not the whole object

    spy.sizes.clear()
    tail = s3.get_object(Bucket=bucket, Key="work/big.bin", Range=f"bytes={len(BODY) - 10}-")
    assert tail["Body"].read() == BODY[-10:]
    past = s3.get_object(Bucket=bucket, Key="work/big.bin", Range=f"bytes=5-{len(BODY) + 100}")
    assert past["Body"].read() == BODY[5:]
    assert max(spy.sizes) == len(BODY) - 5


def test_other_gets_are_unchanged(aws):
    bucket = aws.resources["DataBucket"]
    s3 = aws.client("s3")
    s3.put_object(Bucket=bucket, Key="work/small.bin", Body=b"0123456789")
    assert s3.get_object(Bucket=bucket, Key="work/small.bin")["Body"].read() == b"0123456789"
    suffix = s3.get_object(Bucket=bucket, Key="work/small.bin", Range="bytes=-3")
    assert suffix["Body"].read() == b"789"
    with pytest.raises(ClientError) as err:
        s3.get_object(Bucket=bucket, Key="work/small.bin", Range="bytes=10-20")
    assert err.value.response["Error"]["Code"] == "InvalidRange"
    with pytest.raises(ClientError) as err:
        s3.get_object(Bucket=bucket, Key="work/missing.bin", Range="bytes=0-1")
    assert err.value.response["Error"]["Code"] == "NoSuchKey"
    # The whole object again after the ranged reads (the key's body was never swapped for a range).
    assert s3.get_object(Bucket=bucket, Key="work/small.bin")["Body"].read() == b"0123456789"
