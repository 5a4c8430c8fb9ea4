"""Make the repository root importable, so ``tests.verifier`` resolves under importlib mode."""

import sys
from pathlib import Path

ROOT = str(Path(__file__).resolve().parents[2])
if ROOT not in sys.path:
    sys.path.append(ROOT)
