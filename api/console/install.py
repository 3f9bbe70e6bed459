"""``install_console``: the pages' routers, their static files and their state on the app."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from api.console import operations, pages, preference_page
from api.console.settings import ConsoleSettings
from api.console.state import ConsoleState
from api.console.templating import STATIC_DIR
from api.routers import preference_links


def install_console(app: FastAPI, settings: ConsoleSettings) -> None:
    app.state.console = ConsoleState.build(settings)
    app.mount("/console/static", StaticFiles(directory=STATIC_DIR), name="console-static")
    for router in (
        pages.router,
        operations.router,
        preference_page.router,
        preference_links.router,
    ):
        app.include_router(router)
