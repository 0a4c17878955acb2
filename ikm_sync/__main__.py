"""``python -m ikm_sync`` runs the command line."""

from __future__ import annotations

from ikm_sync.cli import app

app(prog_name="ikm-sync")
