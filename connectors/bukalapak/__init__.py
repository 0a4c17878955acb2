"""Bukalapak (API v4): a simulated channel only, since the marketplace closed for
physical goods in 2025; the simulator lives in :mod:`connectors.bukalapak.simulator`."""
