"""The media store the settings name: files under MEDIA_DIR, or an S3-compatible bucket."""

from __future__ import annotations

from config.settings import Settings
from photos.storage import LocalStorage, PhotoStorage


def media_storage(settings: Settings) -> PhotoStorage:
    if settings.media_storage == "s3":
        from photos.s3 import S3Location, S3Storage  # aiobotocore loads only where it is used

        return S3Storage(
            S3Location(
                endpoint_url=settings.s3_endpoint_url,
                bucket=settings.s3_bucket,
                access_key_id=settings.s3_access_key_id,
                secret_access_key=settings.s3_secret_access_key,
                region=settings.s3_region,
                prefix=settings.s3_prefix,
            )
        )
    return LocalStorage(settings.media_dir)


async def close_media(storage: PhotoStorage) -> None:
    close = getattr(storage, "close", None)
    if close is not None:
        await close()
