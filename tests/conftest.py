"""The project's own tests use the public test kit, enabled here as any project enables it."""

pytest_plugins = ["rustok.testing.plugin"]
