"""Media on an S3-compatible object store (AWS S3, MinIO, Ceph RGW, Tencent COS, Aliyun OSS in S3
mode), for deployments with several hosts: every web and worker process sees the same objects.

Same contract as LocalStorage: keys come from ``photos.keys`` (checked again here), a PUT replaces an
object atomically (S3 guarantees a reader sees the old object or the whole new one), a missing key
reads as None. Every object is private in the bucket: readers get bytes through the application's
own access checks, never a bucket URL. The client is opened on first use and closed with ``close``."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from aiobotocore.config import AioConfig
from aiobotocore.session import get_session
from botocore.exceptions import ClientError

from photos.keys import check_key

MISSING = {"404", "NoSuchKey", "NotFound"}


@dataclass(frozen=True)
class S3Location:
    endpoint_url: str
    bucket: str
    access_key_id: str
    secret_access_key: str
    region: str = "us-east-1"
    # every key is stored under this prefix ("" or e.g. "wuye/"), so one bucket can hold several systems
    prefix: str = ""


class S3Storage:
    def __init__(self, location: S3Location) -> None:
        self.location = location
        self._stack: contextlib.AsyncExitStack | None = None
        self._client: Any = None
        self._opening = asyncio.Lock()

    async def _s3(self) -> Any:
        if self._client is None:
            async with self._opening:
                if self._client is None:
                    stack = contextlib.AsyncExitStack()
                    where = self.location
                    self._client = await stack.enter_async_context(
                        get_session().create_client(
                            "s3",
                            endpoint_url=where.endpoint_url,
                            region_name=where.region,
                            aws_access_key_id=where.access_key_id,
                            aws_secret_access_key=where.secret_access_key,
                            config=AioConfig(
                                s3={"addressing_style": "path"},
                                retries={"max_attempts": 3, "mode": "standard"},
                                connect_timeout=5,
                                read_timeout=30,
                            ),
                        )
                    )
                    self._stack = stack
        return self._client

    async def close(self) -> None:
        stack, self._stack, self._client = self._stack, None, None
        if stack is not None:
            await stack.aclose()

    def _name(self, key: str) -> str:
        return self.location.prefix + check_key(key)

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        s3 = await self._s3()
        await s3.put_object(
            Bucket=self.location.bucket, Key=self._name(key), Body=data, ContentType=content_type
        )

    async def get(self, key: str) -> bytes | None:
        s3 = await self._s3()
        try:
            answer = await s3.get_object(Bucket=self.location.bucket, Key=self._name(key))
        except ClientError as error:
            if _missing(error):
                return None
            raise
        async with answer["Body"] as body:
            data: bytes = await body.read()
        return data

    async def delete(self, key: str) -> None:
        s3 = await self._s3()
        await s3.delete_object(Bucket=self.location.bucket, Key=self._name(key))

    async def exists(self, key: str) -> bool:
        s3 = await self._s3()
        try:
            await s3.head_object(Bucket=self.location.bucket, Key=self._name(key))
        except ClientError as error:
            if _missing(error):
                return False
            raise
        return True

    async def list_keys(self) -> AsyncIterator[str]:
        """Every stored key (without the prefix), for backups."""
        s3 = await self._s3()
        pages = s3.get_paginator("list_objects_v2").paginate(
            Bucket=self.location.bucket, Prefix=self.location.prefix
        )
        async for page in pages:
            for item in page.get("Contents", []):
                yield item["Key"][len(self.location.prefix) :]


def _missing(error: ClientError) -> bool:
    return str(error.response.get("Error", {}).get("Code")) in MISSING
