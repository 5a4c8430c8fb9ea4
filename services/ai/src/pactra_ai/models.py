"""The ai service's tables."""

from datetime import datetime

from sqlalchemy import JSON, DateTime, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pactra_platform.db import Base


class WorkspaceAiSettings(Base):
    """A workspace's AI choices as ``workspace.*`` events last told them: whether analysis may
    run at all, with which engine, and whether every upload is analysed. A mirror only:
    whether an analysis may start is asked of the gateway at that moment (peers.GatewayClient),
    since the event arrives after ``PATCH /v1/workspace`` answered."""

    __tablename__ = "workspace_ai_settings"

    workspace_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    ai_enabled: Mapped[bool] = mapped_column(default=True)
    ai_engine: Mapped[str] = mapped_column(String(20), default="offline")
    ai_auto_analyze: Mapped[bool] = mapped_column(default=False)


class Analysis(Base):
    """One document's analysis in one workspace: pending until a worker claims and runs it."""

    __tablename__ = "analyses"
    __table_args__ = (UniqueConstraint("workspace_id", "document_id"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(String(40), index=True)
    document_id: Mapped[str] = mapped_column(String(40))
    sha256: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20), index=True)  # pending|running|ready|failed
    engine: Mapped[str] = mapped_column(String(20))
    model: Mapped[str] = mapped_column(String(120))
    summary: Mapped[str | None] = mapped_column(Text)
    clauses: Mapped[list | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(String(200))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


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
