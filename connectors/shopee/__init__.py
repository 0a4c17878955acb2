"""Shopee Open Platform v2: the connector (to come) and its simulator.

The simulator lives in :mod:`connectors.shopee.simulator`; the contract both follow is
``shared/marketplaces/shopee.md``.
"""
