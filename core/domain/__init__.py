"""Pure values and aggregates of ikm-sync: no I/O, no framework imports."""
