"""Contract tests of the Tokopedia simulator, written from the tokopedia.md page."""
