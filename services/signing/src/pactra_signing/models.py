"""The signing service's tables."""

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from pactra_platform.db import Base


class Sender(Base):
    """A workspace's owner as signing knows it (from ``workspace.*`` events): every agreement
    of the workspace is sent in this name, and completion emails go to this address."""

    __tablename__ = "senders"

    workspace_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    workspace_name: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
