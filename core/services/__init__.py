"""Use cases of ikm-sync; ports arrive as arguments, nothing is built here."""
