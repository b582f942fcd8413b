"""An S3-compatible server for the tests: moto's standalone server, a real process on loopback.

MinIO, Ceph RGW and AWS S3 are configured the same way (AWS_ENDPOINT_URL and credentials); the
bucket is versioned, as a careful operator's is, so permanent deletion is tested where it is hard.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid

import boto3
import requests

BUCKET = "mcx-recordings"
LOCKED_BUCKET = "mcx-recordings-locked"  # object lock on: a legal hold makes the store refuse deletion
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "portal-tests", "AWS_SECRET_ACCESS_KEY": "portal-tests-secret",
               "AWS_DEFAULT_REGION": "eu-central-1"}


class S3Server:
    def __init__(self, port: int, log):
        self.port = port
        self.endpoint = f"http://127.0.0.1:{port}"
        self.env = {**CREDENTIALS, "AWS_ENDPOINT_URL": self.endpoint}
        self._log = log
        self.process: subprocess.Popen | None = None

    def start(self) -> S3Server:
        self.process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
                                        stdout=self._log, stderr=self._log)
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(f"{self.endpoint}/moto-api/", timeout=1)
                break
            except requests.RequestException:
                assert self.process.poll() is None, "the S3 server process ended"
                assert time.monotonic() < deadline, "the S3 server did not start"
                time.sleep(0.1)
        client = self.client()
        location = {"LocationConstraint": CREDENTIALS["AWS_DEFAULT_REGION"]}
        client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration=location)
        client.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        client.create_bucket(Bucket=LOCKED_BUCKET, CreateBucketConfiguration=location,
                             ObjectLockEnabledForBucket=True)
        return self

    def client(self):
        return boto3.client("s3", endpoint_url=self.endpoint, region_name=CREDENTIALS["AWS_DEFAULT_REGION"],
                            aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
                            aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"])

    def fresh_url(self, bucket: str = BUCKET) -> str:
        """A prefix no other test uses."""
        return f"s3://{bucket}/t-{uuid.uuid4().hex[:12]}"

    def all_versions(self, bucket: str, prefix: str) -> list[dict]:
        """Every version and delete marker under the prefix, as the store itself lists them."""
        found = []
        for page in self.client().get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix):
            found += page.get("Versions", []) + page.get("DeleteMarkers", [])
        return found

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)


def use_in_this_process(server: S3Server) -> dict:
    """Point boto3 in this process at the server (the portal reads the standard AWS variables);
    returns the earlier values to restore."""
    earlier = {name: os.environ.get(name) for name in server.env}
    os.environ.update(server.env)
    return earlier


def restore(earlier: dict) -> None:
    for name, value in earlier.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
