"""The one typed settings object, read from the environment; nothing else reads it."""

from __future__ import annotations

import functools
import ipaddress
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _env_float(name: str, default: float) -> float:
    raw = _env(name)
    return float(raw) if raw is not None else default


def _env_int(name: str, default: int) -> int:
    raw = _env(name)
    return int(raw) if raw is not None else default


def _env_bool(name: str, default: bool) -> bool:
    raw = _env(name)
    if raw is None:
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def _env_networks(name: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    raw = _env(name, "") or ""
    return tuple(ipaddress.ip_network(part.strip(), strict=False)
                 for part in raw.split(",") if part.strip())


def _read_or_create_secret(path: Path) -> str:
    """A secret generated on first start and kept in the runtime folder."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    # O_EXCL: two processes starting at once agree on the first writer's secret.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(value)
    return value


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    secret_key: str
    redis_url: str | None
    port: int
    backend_port: int | None
    public_url: str
    # executor
    poll_interval_s: float
    lease_s: float
    executor_concurrency: int
    claim_batch: int
    run_scheduler: bool
    tool_modules: tuple[str, ...]
    # outbound HTTP (http steps and webhooks)
    allowed_networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]
    http_timeout_s: float
    # webhooks
    webhook_timeout_s: float
    webhook_retry_scale: float
    webhook_max_failures: int
    webhook_secret_overlap_s: float
    webhook_concurrency: int  # attempts in flight at once, per process
    # API limits
    rate_limit_read_per_min: int
    rate_limit_write_per_min: int
    max_body_bytes: int
    max_concurrent_runs: int
    # database pool
    db_pool_size: int
    db_max_overflow: int
    # worker threads running API routes' blocking work, per process
    api_threads: int
    demo_password: str = field(repr=False, default="")
    # email: smtp://user:pass@host:587 (STARTTLS) or smtps://… (implicit TLS); empty writes
    # emails to the log. The URL holds a password: never printed (repr=False).
    smtp_url: str = field(repr=False, default="")
    mail_from: str = "Flowdesk <flowdesk@localhost>"
    smtp_ca_file: str = ""  # a CA bundle for a server whose certificate is private
    smtp_timeout_s: float = 10.0
    mail_retry_scale: float = 1.0  # tests shrink the retry schedule
    # uploaded files: on disk under <data_dir>/files unless s3://bucket/prefix (boto3 reads
    # the AWS_* credentials itself); the endpoint points at an S3-compatible server
    file_storage_url: str = ""
    file_storage_endpoint: str = ""
    max_upload_bytes: int = 10 * 1024 * 1024
    # finished runs (COMPLETED, CANCELLED) older than this many days are deleted with their
    # steps, approvals and files; 0 keeps them forever
    run_retention_days: int = 0

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def load_settings() -> Settings:
    """Build the settings from the environment (no caching: see get_settings)."""
    data_dir = Path(_env("DATA_DIR", str(PROJECT_ROOT / ".data"))).resolve()
    database_url = _env("DATABASE_URL") or f"sqlite:///{data_dir / 'app.db'}"
    secret_key = _env("SECRET_KEY") or _read_or_create_secret(data_dir / "secret_key")
    port = _env_int("PORT", 3000)
    backend = _env("BACKEND_PORT")
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        secret_key=secret_key,
        redis_url=_env("REDIS_URL"),
        port=port,
        backend_port=int(backend) if backend else None,
        public_url=_env("PUBLIC_URL", f"http://localhost:{port}") or "",
        poll_interval_s=_env_float("POLL_INTERVAL_S", 1.0),
        lease_s=_env_float("LEASE_S", 30.0),
        executor_concurrency=_env_int("EXECUTOR_CONCURRENCY", 16),
        claim_batch=_env_int("CLAIM_BATCH", 32),
        run_scheduler=_env_bool("RUN_SCHEDULER", True),
        tool_modules=tuple(m.strip() for m in (_env("TOOL_MODULES", "") or "").split(",")
                           if m.strip()),
        allowed_networks=_env_networks("ALLOWED_NETWORKS"),
        http_timeout_s=_env_float("HTTP_TIMEOUT_S", 10.0),
        webhook_timeout_s=_env_float("WEBHOOK_TIMEOUT_S", 10.0),
        webhook_retry_scale=_env_float("WEBHOOK_RETRY_SCALE", 1.0),
        webhook_max_failures=_env_int("WEBHOOK_MAX_FAILURES", 20),
        webhook_secret_overlap_s=_env_float("WEBHOOK_SECRET_OVERLAP_S", 86400.0),
        webhook_concurrency=max(1, _env_int("WEBHOOK_CONCURRENCY", 64)),
        rate_limit_read_per_min=_env_int("RATE_LIMIT_READ_PER_MIN", 600),
        rate_limit_write_per_min=_env_int("RATE_LIMIT_WRITE_PER_MIN", 120),
        max_body_bytes=_env_int("MAX_BODY_BYTES", 1_048_576),
        max_concurrent_runs=_env_int("MAX_CONCURRENT_RUNS", 1000),
        db_pool_size=_env_int("DB_POOL_SIZE", 10),
        db_max_overflow=_env_int("DB_MAX_OVERFLOW", 20),
        # Few threads contend less for the GIL; SQLite writes are serialised anyway, while a
        # server database's round trips overlap better with more.
        api_threads=_env_int("API_THREADS", 8 if database_url.startswith("sqlite") else 16),
        demo_password=_env("DEMO_PASSWORD", "") or "",
        smtp_url=_env("SMTP_URL", "") or "",
        mail_from=_env("MAIL_FROM", "") or "Flowdesk <flowdesk@localhost>",
        smtp_ca_file=_env("SMTP_CA_FILE", "") or "",
        smtp_timeout_s=_env_float("SMTP_TIMEOUT_S", 10.0),
        mail_retry_scale=_env_float("MAIL_RETRY_SCALE", 1.0),
        file_storage_url=_env("FILE_STORAGE_URL", "") or "",
        file_storage_endpoint=_env("FILE_STORAGE_ENDPOINT", "") or "",
        max_upload_bytes=_env_int("MAX_UPLOAD_BYTES", 10 * 1024 * 1024),
        run_retention_days=max(0, _env_int("RUN_RETENTION_DAYS", 0)),
    )


@functools.cache
def get_settings() -> Settings:
    return load_settings()


def reset_settings() -> None:
    """Forget the cached settings (tests change the environment between cases)."""
    get_settings.cache_clear()
