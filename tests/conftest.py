"""Make ``bench/`` (the vendor server, baselines) and this folder's helper modules
importable from these tests (pytest's importlib mode puts neither on sys.path)."""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "bench"))
sys.path.insert(0, str(HERE))
