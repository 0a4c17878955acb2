"""Tokopedia (legacy Seller API, ``fs_id``): simulator now, connector later.

See ``/work/shared/marketplaces/tokopedia.md`` for the contract; the simulator lives in
:mod:`connectors.tokopedia.simulator`.
"""
