"""Tests of the connectors and their shared plumbing."""
