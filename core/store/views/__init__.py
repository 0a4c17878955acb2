"""Read models of the console: scoped, paginated SQL reads, one module per page group.

Every function takes what the viewer may see (account row ids or producer ids, where
``None`` means everything) and filters in SQL, so a page can never show what its
viewer's scope does not admit.
"""
