"""The HTTP surface: the app factory, its middleware, shared dependencies and the ops endpoints."""
