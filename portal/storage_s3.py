"""Recordings in an S3-compatible object store (AWS S3, MinIO, Ceph RGW), through boto3 (issue 19).

PORTAL_RECORDINGS_URL=s3://bucket/prefix names the bucket and the key prefix; the endpoint, region
and credentials come from the standard AWS variables boto3 reads itself (AWS_ENDPOINT_URL,
AWS_DEFAULT_REGION, AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, or an instance role).

Permanent deletion (GDPR art. 17, SPEC: a terminated customer's recordings are deleted for good):
on a versioned bucket a plain DeleteObject only hides the object behind a delete marker, so every
version and every delete marker of the key is listed and deleted by version id.
"""
from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from urllib.parse import urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from portal.storage import ObjectStat, Removal, Removed, StorageError

# the S3 API deletes at most 1,000 keys (versions) per DeleteObjects call
_BATCH = 1000
_MISSING = {"404", "NoSuchKey", "NotFound", "NoSuchVersion"}


def _error(key: str, error: Exception) -> StorageError:
    if isinstance(error, ClientError):
        info = error.response.get("Error", {})
        return StorageError(f"{key}: {info.get('Code', 'error')}: {info.get('Message', '')}".rstrip(": "))
    return StorageError(f"{key}: {error}")


def _missing(error: ClientError) -> bool:
    return str(error.response.get("Error", {}).get("Code")) in _MISSING


class S3Store:
    """Recordings as objects under `prefix` in one bucket; keys are the recordings' relative paths."""

    def __init__(self, url: str, *, presign_seconds: int = 60, client=None):
        parts = urlsplit(url)
        if parts.scheme != "s3" or not parts.netloc:
            raise StorageError(f"PORTAL_RECORDINGS_URL must look like s3://bucket/prefix, not {url!r}")
        self.bucket = parts.netloc
        self.prefix = parts.path.strip("/")
        self.prefix = f"{self.prefix}/" if self.prefix else ""
        self.description = f"s3://{self.bucket}/{self.prefix}"
        self.presign_seconds = presign_seconds
        # standard retries ride out a store's brief throttling; timeouts keep a page from hanging
        self.client = client or boto3.client("s3", config=Config(
            retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=5, read_timeout=30))

    def object_key(self, key: str) -> str:
        """The object's key in the bucket; refuses names that are not a relative path of a file."""
        parts = key.split("/")
        if (not key or key.startswith("/") or any(p in ("", ".", "..") for p in parts)
                or any(ord(c) < 32 or c in "\\\x7f" for c in key) or len(key) > 900):
            raise StorageError(f"{key!r} is not a recording file name")
        return self.prefix + key

    def _head(self, key: str, **extra) -> dict | None:
        try:
            return self.client.head_object(Bucket=self.bucket, Key=self.object_key(key), **extra)
        except ClientError as error:
            if _missing(error):
                return None
            raise _error(key, error) from error
        except BotoCoreError as error:
            raise _error(key, error) from error

    def exists(self, key: str) -> bool:
        return self._head(key) is not None

    def size(self, key: str) -> int:
        head = self._head(key)
        if head is None:
            raise StorageError(f"{key}: no such object")
        return int(head["ContentLength"])

    def stat(self, key: str) -> ObjectStat | None:
        """HeadObject with checksum mode: the object's size, and its SHA-256 when it was uploaded
        with a full-object SHA-256 checksum (a multipart upload's composite checksum is not one)."""
        head = self._head(key, ChecksumMode="ENABLED")
        if head is None:
            return None
        checksum = head.get("ChecksumSHA256")
        sha256 = None
        if checksum and "-" not in checksum and head.get("ChecksumType", "FULL_OBJECT") == "FULL_OBJECT":
            try:
                sha256 = base64.b64decode(checksum, validate=True).hex()
            except (binascii.Error, ValueError):
                sha256 = None
        return ObjectStat(int(head["ContentLength"]), sha256 if sha256 and len(sha256) == 64 else None)

    def open(self, key: str, start: int = 0, end: int | None = None):
        extra = {}
        if start or end is not None:
            if end is not None and end <= start:
                return _Empty()
            extra["Range"] = f"bytes={start}-{'' if end is None else end - 1}"
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self.object_key(key), **extra)["Body"]
        except (ClientError, BotoCoreError) as error:
            raise _error(key, error) from error

    def sha256(self, key: str) -> str:
        import hashlib

        digest = hashlib.sha256()
        body = self.open(key)
        try:
            for chunk in iter(lambda: body.read(1024 * 1024), b""):
                digest.update(chunk)
        finally:
            body.close()
        return digest.hexdigest()

    def put(self, key: str, data: bytes) -> None:
        """Upload with a SHA-256 checksum the store verifies and keeps, so `stat` can report it."""
        try:
            self.client.put_object(Bucket=self.bucket, Key=self.object_key(key), Body=data,
                                   ChecksumAlgorithm="SHA256")
        except (ClientError, BotoCoreError) as error:
            raise _error(key, error) from error

    def presigned_url(self, key: str, *, download_name: str, mimetype: str, as_attachment: bool) -> str:
        """A GetObject URL valid for `presign_seconds`, whose answer carries the portal's
        Content-Disposition (RFC 6266, the name percent-encoded as RFC 8187 says), type and
        Cache-Control; the client's Range goes straight to the store."""
        from urllib.parse import quote

        disposition = "attachment" if as_attachment else "inline"
        ascii_name = download_name.encode("ascii", "replace").decode().replace('"', "_").replace("?", "_")
        return self.client.generate_presigned_url("get_object", ExpiresIn=self.presign_seconds, Params={
            "Bucket": self.bucket, "Key": self.object_key(key),
            "ResponseContentDisposition": f"{disposition}; filename=\"{ascii_name}\"; "
                                          f"filename*=UTF-8''{quote(download_name, safe='')}",
            "ResponseContentType": mimetype, "ResponseCacheControl": "private, no-store"})

    def delete(self, key: str) -> None:
        failure = self.delete_many([key]).get(key)
        if failure is not None:
            raise failure

    def delete_many(self, keys: Iterable[str]) -> dict[str, StorageError]:
        return self.remove_many(keys).failures

    def _versions(self, object_key: str) -> tuple[list[str], list[str]]:
        """Version ids of the object's versions and of its delete markers (an unversioned bucket
        lists the object once, as version "null")."""
        versions, markers = [], []
        pages = self.client.get_paginator("list_object_versions").paginate(Bucket=self.bucket, Prefix=object_key)
        for page in pages:
            versions += [v["VersionId"] for v in page.get("Versions", []) if v["Key"] == object_key]
            markers += [m["VersionId"] for m in page.get("DeleteMarkers", []) if m["Key"] == object_key]
        return versions, markers

    def remove_many(self, keys: Iterable[str]) -> Removal:
        """Every version and delete marker of each key, deleted by version id in batches of 1,000;
        a key whose versions the store refused to delete (object lock, a policy, an outage) is
        reported with the store's error and counts nothing as removed."""
        result = Removal()
        pending: list[tuple[str, str, str, bool]] = []  # (key, object key, version id, is marker)
        for key in keys:
            try:
                object_key = self.object_key(key)
                versions, markers = self._versions(object_key)
            except StorageError as error:
                result.failures[key] = error
                continue
            except (ClientError, BotoCoreError) as error:
                result.failures[key] = _error(key, error)
                continue
            result.removed[key] = Removed(len(versions), len(markers))
            pending += [(key, object_key, v, False) for v in versions]
            pending += [(key, object_key, m, True) for m in markers]
        for start in range(0, len(pending), _BATCH):
            batch = pending[start:start + _BATCH]
            owners = {object_key: key for key, object_key, _, _ in batch}
            try:
                answer = self.client.delete_objects(Bucket=self.bucket, Delete={
                    "Objects": [{"Key": object_key, "VersionId": version} for _, object_key, version, _ in batch],
                    "Quiet": True})
            except (ClientError, BotoCoreError) as error:
                for key in {key for key, *_ in batch}:
                    result.failures.setdefault(key, _error(key, error))
                continue
            for refused in answer.get("Errors", []):
                key = owners.get(refused.get("Key"), refused.get("Key", "?"))
                result.failures.setdefault(key, StorageError(
                    f"{key}: {refused.get('Code', 'error')}: {refused.get('Message', '')}".rstrip(": ")))
        for key in result.failures:
            result.removed.pop(key, None)
        return result


class _Empty:
    def read(self, size: int = -1) -> bytes:
        return b""

    def close(self) -> None:
        pass
