"""The public test kit: a pytest plugin with fixtures for settings, a migrated database per run on each
backend, a session that rolls back per test, an HTTP client on the app, and id and time helpers; and the
helpers those tests use. See docs/testing.md.

It is opted into, not imposed: installing ``rustok`` loads nothing into pytest. A project that wants the
kit installs its extra (``pip install 'rustok[testing]'``) and names the plugin in its top conftest.py::

    pytest_plugins = ["rustok.testing.plugin"]
"""

import importlib.util

# The extra's packages, as (import name, distribution name). Checked before anything here imports them,
# so that a kit enabled without its extra says what to install instead of failing on some inner import.
_EXTRA = (("pytest", "pytest"), ("pytest_asyncio", "pytest-asyncio"), ("httpx", "httpx"))
_missing = [distribution for module, distribution in _EXTRA if importlib.util.find_spec(module) is None]
if _missing:
    raise ImportError(
        f"the test kit rustok.testing needs {', '.join(_missing)}, not installed here;"
        " install the kit's extra: pip install 'rustok[testing]'",
        name=_missing[0].replace("-", "_"),
    )

from rustok.testing.auth import SignedInUser, login_as, new_tenant, sign_in_as
from rustok.testing.backends import only_on
from rustok.testing.clock import FrozenClock
from rustok.testing.commerce import make_order, make_product, make_variant
from rustok.testing.concurrency import at_once
from rustok.testing.content import make_category, make_comment, make_node, make_tag
from rustok.testing.events import EventRecorder, RecordedEvents, pending_count, settle
from rustok.testing.http import app_client, http_client
from rustok.testing.ids import id_at
from rustok.testing.media import PNG_BYTES, image_bytes, post_media, upload_media
from rustok.testing.runtime import LiveApp, live_app
from rustok.testing.services import require_service, services_required
from rustok.testing.statements import Statements, count_statements
from rustok.testing.uows import uow_without_database, uows_on

__all__ = [
    "PNG_BYTES",
    "EventRecorder",
    "FrozenClock",
    "LiveApp",
    "RecordedEvents",
    "SignedInUser",
    "Statements",
    "app_client",
    "at_once",
    "count_statements",
    "http_client",
    "id_at",
    "image_bytes",
    "live_app",
    "login_as",
    "make_category",
    "make_comment",
    "make_node",
    "make_order",
    "make_product",
    "make_tag",
    "make_variant",
    "new_tenant",
    "only_on",
    "pending_count",
    "post_media",
    "require_service",
    "services_required",
    "settle",
    "sign_in_as",
    "uow_without_database",
    "uows_on",
    "upload_media",
]
