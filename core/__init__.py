"""The canonical store and the business rules of ikm-sync; no HTTP, scheduler, CLI or config."""
