from pactra_platform.db import Base
from pactra_platform.migrations import run_env

run_env(Base.metadata)
