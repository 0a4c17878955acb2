"""Tests of ikm-sync."""
