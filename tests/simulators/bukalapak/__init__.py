"""Contract tests of the Bukalapak simulator, written from
shared/marketplaces/bukalapak.md."""
