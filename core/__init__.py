"""The canonical store and the business rules; no HTTP, scheduler, CLI or config."""
