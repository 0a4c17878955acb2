"""One module per page group; each exposes ``router`` (an ``APIRouter`` whose
changing routes depend on :data:`web.security.CSRF`)."""
