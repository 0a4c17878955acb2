"""The officers' and auditors' console and (later) the webhook receivers: an ASGI
application served by uvicorn (``ikm-sync serve``).

It calls the same services and the same account-job runner as the command line and
the daemon, never a second path. Rooms: :mod:`web.app` builds the application,
:mod:`web.security` signs people in and guards every request (session, CSRF, CSP,
deny by default), :mod:`web.i18n` speaks Bahasa Indonesia or English,
:mod:`web.render` renders templates, and :mod:`web.pages` holds one module per page
group.
"""
