"""Categories and tags: the terms that organise nodes."""
