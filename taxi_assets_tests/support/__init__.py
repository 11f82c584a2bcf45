"""Test support: the servers, emulators, sinks, command-line and GraphQL helpers the tests share.

Every test module imports what it needs from here; no test module imports another.
"""

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
