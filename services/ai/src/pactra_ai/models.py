"""The ai service's tables."""

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from pactra_platform.db import Base


class WorkspaceAiSettings(Base):
    """A workspace's AI choices (from ``workspace.*`` events): whether analysis may run at all,
    with which engine, and whether every upload is analysed."""

    __tablename__ = "workspace_ai_settings"

    workspace_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    ai_enabled: Mapped[bool] = mapped_column(default=True)
    ai_engine: Mapped[str] = mapped_column(String(20), default="offline")
    ai_auto_analyze: Mapped[bool] = mapped_column(default=False)
