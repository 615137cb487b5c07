"""Which locales content may be written in, and which one a read serves.

Writes are checked against the tenant's enabled locales as the database has them in the writing
transaction (not the cached tenant, which may lag a locale just enabled or disabled): a locale the tenant has
not enabled is a 422 ``locale_not_enabled``. Reads fall back: the asked locale when the object has it, else
the tenant's default, else the first the object has.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from rustok.core.errors import Unprocessable
from rustok.core.uow import UnitOfWork
from rustok.tenants.service import list_locales


@dataclass(frozen=True, slots=True)
class Locales:
    default: str
    enabled: tuple[str, ...]  # the default first

    def require(self, locale: str, *, loc: tuple[str | int, ...] = ("body", "locale")) -> str:
        if locale not in self.enabled:
            raise Unprocessable(
                f"The locale {locale!r} is not enabled for this tenant (enabled: {', '.join(self.enabled)}).",
                code="locale_not_enabled",
                errors=[{"loc": list(loc), "msg": "locale not enabled", "type": "locale_not_enabled"}],
            )
        return locale

    def require_all(self, locales: Iterable[str], *, field: str) -> None:
        for index, locale in enumerate(locales):
            self.require(locale, loc=("body", field, index, "locale"))


async def tenant_locales(uow: UnitOfWork) -> Locales:
    """The enabled locales of the unit of work's tenant, read in its transaction."""
    rows = await list_locales(uow)
    default = next((row.locale for row in rows if row.is_default), rows[0].locale if rows else "en")
    return Locales(default=default, enabled=tuple(row.locale for row in rows))


def pick_locale(available: Iterable[str], wanted: str | None, default: str) -> str | None:
    """The locale a read serves among ``available``: ``wanted``, else ``default``, else the first one."""
    have = list(available)
    for candidate in (wanted, default):
        if candidate is not None and candidate in have:
            return candidate
    return have[0] if have else None
