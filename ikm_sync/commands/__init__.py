"""One module per command group of the ``ikm-sync`` command line."""
