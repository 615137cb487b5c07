"""The commerce module's routes: the catalog (`rustok.commerce.catalog.http`) and orders
(`rustok.commerce.orders.http`)."""

from __future__ import annotations

from rustok.commerce.catalog.http import router as catalog_router
from rustok.commerce.orders.http import router as orders_router
from rustok.core.routing import make_router

router = make_router()
router.include_router(catalog_router)
router.include_router(orders_router)
