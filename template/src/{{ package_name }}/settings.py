"""Runtime configuration, read from the environment and an optional `.env` file.

Nested groups use a double underscore: `DATABASE__URL` sets `settings.database.url`.
"""

from functools import lru_cache
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SECRET_KEY = "change-me-to-a-long-random-string"  # noqa: S105
MIN_SECRET_KEY_LENGTH = 32

Environment = Literal["development", "test", "production"]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]
PositiveSeconds = Annotated[float, Field(gt=0, le=300)]


class LogSettings(BaseModel):
    level: LogLevel = "INFO"
    json_format: bool = Field(default=True, alias="json")

    model_config = ConfigDict(validate_by_name=True, validate_by_alias=True)


class TelemetrySettings(BaseModel):
    enabled: bool = False
    """FastAPI's native OpenTelemetry instrumentation, through the global providers. Off, it
    costs nothing; on without an OpenTelemetry SDK configured, it records nothing and still
    checks for providers on every request."""


class ServerSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    workers: int = Field(default=0, ge=0, le=64)
    """Worker processes; 0 starts one per CPU the process may use."""
    keep_alive_seconds: int = Field(default=75, ge=1, le=3600)
    forwarded_allow_ips: str = "127.0.0.1"
    graceful_shutdown_seconds: int = Field(default=5, ge=1, le=300)


class DatabaseSettings(BaseModel):
    url: SecretStr = SecretStr("sqlite+aiosqlite:///./dev.db")
    pool_size: int = Field(default=20, ge=1, le=100)
    max_overflow: int = Field(default=10, ge=0, le=100)
    pool_timeout_seconds: PositiveSeconds = 1
    connect_timeout_seconds: PositiveSeconds = 1
    command_timeout_seconds: PositiveSeconds = 1
    request_timeout_seconds: PositiveSeconds = 1.5
    ping_after_idle_seconds: float = Field(default=1, ge=0, le=3600)
    statement_timeout_ms: int = Field(default=10_000, ge=0)
    echo: bool = False

    @property
    def is_sqlite(self) -> bool:
        return self.url.get_secret_value().startswith("sqlite")


class ApiSettings(BaseModel):
    cors_origins: list[str] = []
    idempotency_ttl_seconds: int = Field(default=86_400, ge=60)
    max_body_bytes: int = Field(default=1_048_576, ge=1)
    readiness_timeout_seconds: PositiveSeconds = 2
    server_url: Annotated[str, Field(pattern=r"^(/|https?://)")] = "/"


class Settings(BaseSettings):
    environment: Environment = "development"
    debug: bool = False
    secret_key: SecretStr = SecretStr(DEFAULT_SECRET_KEY)
    log: LogSettings = LogSettings()
    telemetry: TelemetrySettings = TelemetrySettings()
    server: ServerSettings = ServerSettings()
    database: DatabaseSettings = DatabaseSettings()
    api: ApiSettings = ApiSettings()

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        env_nested_delimiter="__",
        extra="ignore",
        frozen=True,
    )

    @model_validator(mode="after")
    def _fail_closed_in_production(self) -> Self:
        if self.environment != "production":
            return self
        problems = []
        secret = self.secret_key.get_secret_value()
        if secret == DEFAULT_SECRET_KEY:
            problems.append("SECRET_KEY still has its development default")
        elif len(secret) < MIN_SECRET_KEY_LENGTH:
            problems.append(f"SECRET_KEY must be at least {MIN_SECRET_KEY_LENGTH} characters long")
        if self.database.is_sqlite:
            problems.append("DATABASE__URL points at SQLite; production needs PostgreSQL")
        if self.debug:
            problems.append("DEBUG must be false")
        if problems:
            raise ValueError("refusing to start in production: " + "; ".join(problems))
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
