"""Object storage (S3 API: SeaweedFS locally, MinIO, R2 or S3 in production)."""

from minio import Minio

from .settings import Settings


def object_store(settings: Settings) -> Minio:
    return Minio(
        settings.s3_endpoint,
        access_key=settings.s3_access_key,
        secret_key=settings.s3_secret_key,
        secure=settings.s3_secure,
    )


def bucket_name(settings: Settings, service: str) -> str:
    return f"{settings.s3_bucket_prefix}{service}"


def ensure_bucket(settings: Settings, service: str) -> None:
    client = object_store(settings)
    bucket = bucket_name(settings, service)
    if not client.bucket_exists(bucket):
        client.make_bucket(bucket)
