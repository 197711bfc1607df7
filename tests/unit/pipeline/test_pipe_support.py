"""An in-memory S3 for the pipeline's unit tests: what the part writers and readers call on `aws.s3()`."""

from __future__ import annotations

import io


class FakeS3:
    def __init__(self):
        self.objects: dict[str, bytes] = {}

    def upload_fileobj(self, fh, bucket, key, ExtraArgs=None):
        self.objects[key] = fh.read()

    def get_object(self, Bucket, Key, Range=None):
        data = self.objects[Key]
        if Range:
            start, end = map(int, Range.removeprefix("bytes=").split("-"))
            data = data[start:end + 1]
        body = io.BytesIO(data)
        body.iter_lines = lambda: iter(data.splitlines())
        return {"Body": body}
