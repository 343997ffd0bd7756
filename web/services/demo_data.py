"""Demo data for development (`make run`). Never runs in production. Idempotent."""

from __future__ import annotations

from web.settings import Settings


async def seed_demo_data(settings: Settings) -> int:
    """Create what is missing; return how many records were created."""
    if settings.is_production:
        raise RuntimeError("demo data is for development only")
    created = 0
    return created
