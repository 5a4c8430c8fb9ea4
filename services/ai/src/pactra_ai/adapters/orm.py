"""The ai service's tables. The analysis job is the domain's own class, mapped onto its table
here (the domain knows nothing of it); the settings mirror, the result cache and the token
counts are rows only the repositories read."""

from datetime import datetime

from sqlalchemy import JSON, Column, DateTime, Integer, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pactra_platform.db import Base

from ..domain.analysis import Analysis


class WorkspaceAiSettings(Base):
    """A workspace's AI choices as ``workspace.*`` events last told them. A mirror only:
    whether an analysis may start is asked of the gateway at that moment (peers.GatewayClient),
    since the event arrives after ``PATCH /v1/workspace`` answered."""

    __tablename__ = "workspace_ai_settings"

    workspace_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    ai_enabled: Mapped[bool] = mapped_column(default=True)
    ai_engine: Mapped[str] = mapped_column(String(20), default="offline")
    ai_auto_analyze: Mapped[bool] = mapped_column(default=False)


# One document's analysis in one workspace: pending until a worker claims and runs it.
analyses = Table(
    "analyses", Base.metadata,
    Column("id", String(40), primary_key=True),
    Column("workspace_id", String(40), index=True, nullable=False),
    Column("document_id", String(40), nullable=False),
    Column("sha256", String(64)),
    Column("status", String(20), index=True, nullable=False),  # pending|running|ready|failed
    Column("engine", String(20), nullable=False),
    Column("model", String(120), nullable=False),
    Column("summary", Text),
    Column("clauses", JSON),
    Column("error", String(200)),
    Column("attempts", Integer, nullable=False, default=0),
    Column("claimed_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("workspace_id", "document_id"),
)
Base.registry.map_imperatively(Analysis, analyses)


class CachedAnalysis(Base):
    """A finished result by (scope, document hash, engine, model). The scope is the workspace,
    whatever the engine: an answer from a cache shared across workspaces (a 200 at once instead
    of a 202) would tell a workspace that another one analysed the same bytes."""

    __tablename__ = "analysis_cache"

    scope: Mapped[str] = mapped_column(String(40), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    engine: Mapped[str] = mapped_column(String(20), primary_key=True)
    model: Mapped[str] = mapped_column(String(120), primary_key=True)
    summary: Mapped[str] = mapped_column(Text)
    clauses: Mapped[list] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class TokenUsage(Base):
    """LLM tokens a workspace used in a calendar month (UTC), checked against the cap."""

    __tablename__ = "token_usage"

    workspace_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)  # YYYY-MM
    tokens: Mapped[int] = mapped_column(Integer, default=0)
