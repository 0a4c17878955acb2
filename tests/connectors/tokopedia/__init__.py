"""Wire tests of the Tokopedia connector (respx routers, fixed clock and secrets)."""
