"""Admin fixtures (helpers live in staff_helpers)."""

from tests.admin.staff_helpers import staff_client  # noqa: F401
