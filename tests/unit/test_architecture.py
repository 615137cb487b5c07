"""Domain modules talk to each other only through their public surface (the package itself, its service
functions, its event types and its schemas), never through each other's tables or repositories.
(That the kernel imports no other part of rustok is import-linter's contract in pyproject.toml.)"""

from __future__ import annotations

import grimp

from rustok import modules

PUBLIC_SURFACE = ("", ".service", ".events", ".schemas", ".permissions")


def boundary_violations(graph: grimp.ImportGraph, packages: tuple[str, ...]) -> list[tuple[str, str]]:
    """(importer, imported) pairs where one module reaches into another's internals."""
    found: list[tuple[str, str]] = []
    for package in packages:
        importer_root = f"rustok.{package}"
        for importer in {importer_root} | graph.find_descendants(importer_root):
            for imported in graph.find_modules_directly_imported_by(importer):
                for other in packages:
                    other_root = f"rustok.{other}"
                    if other == package or not (
                        imported == other_root or imported.startswith(other_root + ".")
                    ):
                        continue
                    if not any(imported == other_root + suffix for suffix in PUBLIC_SURFACE):
                        found.append((importer, imported))
    return sorted(found)


def test_installed_modules_respect_each_others_boundaries() -> None:
    graph = grimp.build_graph("rustok")
    assert boundary_violations(graph, modules.INSTALLED_MODULES) == []


def test_the_boundary_check_catches_a_reach_into_internals() -> None:
    """Guards the guard, on a made-up graph: content may call commerce's service, not its repository."""
    graph = grimp.ImportGraph()
    for name in (
        "rustok.content",
        "rustok.content.service",
        "rustok.commerce",
        "rustok.commerce.service",
        "rustok.commerce.repository",
    ):
        graph.add_module(name)
    graph.add_import(importer="rustok.content.service", imported="rustok.commerce.service")
    graph.add_import(importer="rustok.content.service", imported="rustok.commerce.repository")

    assert boundary_violations(graph, ("content", "commerce")) == [
        ("rustok.content.service", "rustok.commerce.repository")
    ]


def test_every_route_parses_bodies_as_strict_json() -> None:
    """Routes made outside `make_router` would let lone surrogates and non-UTF-8 bodies through."""
    from rustok.api.app import create_app
    from rustok.core.routing import StrictJSONRoute, walk_routes
    from rustok.core.settings import Settings

    app = create_app(Settings(_env_file=None), configure_logs=False)
    routes = list(walk_routes(app.routes))
    assert {"/health/live", "/health/ready"} <= {route.path for route in routes}
    assert [route.path for route in routes if not isinstance(route, StrictJSONRoute)] == []


def test_every_route_declares_its_permission_or_that_it_is_public() -> None:
    """rbac.md: a route that declares nothing fails the build (`requires(...)` or `public()`)."""
    from rustok.api.app import create_app
    from rustok.core.routing import walk_routes
    from rustok.core.security import declared_permission
    from rustok.core.settings import Settings

    app = create_app(Settings(_env_file=None), configure_logs=False)
    routes = list(walk_routes(app.routes))
    undeclared = [
        f"{sorted(route.methods or ())} {route.path}"
        for route in routes
        if declared_permission(route) is None
    ]
    assert routes
    assert undeclared == []
