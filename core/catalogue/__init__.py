"""Catalogue spreadsheets: reading, validating, planning an import, and exporting."""
