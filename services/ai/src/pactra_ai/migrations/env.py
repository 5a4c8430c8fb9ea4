from pactra_ai.adapters import orm  # noqa: F401 - registers the tables on the metadata
from pactra_platform.db import Base
from pactra_platform.migrations import run_env

run_env(Base.metadata)
