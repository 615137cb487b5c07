"""Dependencies of the app's own routes (health, metrics), which may see the whole runtime."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from rustok.bootstrap import Runtime


async def get_runtime(request: Request) -> Runtime:
    runtime = request.app.state.runtime
    assert isinstance(runtime, Runtime)
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
