"""Contract tests of the Shopee simulator, written from marketplaces/shopee.md."""
