"""``ikm-sync audit``: the auditor's trail (DESIGN §6). The chain's commands live in
:mod:`ikm_sync.commands.audit_chain`, the readers' in
:mod:`ikm_sync.commands.audit_read`; both add to this group."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="The audit trail: every business change, chained, verifiable, exportable.",
    no_args_is_help=True,
)
