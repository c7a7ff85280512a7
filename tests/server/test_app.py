"""The app factory: what a served process's app does that apps made per test do not."""

import gc

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from server.app import create_app
from server.settings import Settings

pytestmark = pytest.mark.anyio

SETTINGS = Settings(migrate_on_start=False, seed_on_start=False, response_cache=False)


async def test_a_served_app_freezes_its_start_up_heap_while_it_runs(engine: AsyncEngine) -> None:
    # given
    app = create_app(SETTINGS, engine=engine, freeze_heap=True)
    assert gc.get_freeze_count() == 0

    # when
    async with app.router.lifespan_context(app):
        running = gc.get_freeze_count()

    # then: frozen while running, given back to the collector at shutdown
    assert running > 0
    assert gc.get_freeze_count() == 0


async def test_an_app_made_per_test_leaves_the_collector_alone(engine: AsyncEngine) -> None:
    app = create_app(SETTINGS, engine=engine)
    async with app.router.lifespan_context(app):
        assert gc.get_freeze_count() == 0
