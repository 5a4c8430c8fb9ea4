from pactra_platform.db import Base
from pactra_platform.migrations import run_env
from pactra_signing.adapters import orm  # noqa: F401 - registers the tables on the metadata

run_env(Base.metadata)
