"""The receipts service's unit tests: fakes.py beside them (and, through ../conftest.py, the
shared agreement stories)."""

import sys
from pathlib import Path

HERE = str(Path(__file__).resolve().parent)
if HERE not in sys.path:
    sys.path.append(HERE)
