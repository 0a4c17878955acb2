"""Wire tests of the Shopee connector (respx routers, fixed clock and secrets)."""
