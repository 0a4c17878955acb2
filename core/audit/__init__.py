"""The auditor's trail (DESIGN §6): audit events, their hash chain, checkpoints."""
