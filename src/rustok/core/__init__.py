"""The kernel: settings, database, base model, repository, unit of work, errors, ids, clock, pagination.

It imports nothing from the domain modules, the API or the CLI (an import-linter contract checks this).
"""
