"""Every page's first load fits the 60 KB (gzip) budget, htmx included."""

import pytest

from bench.page_weight import BUDGET_BYTES, PAGES, measure


@pytest.mark.parametrize("path", PAGES)
async def test_first_load_fits_the_budget(client, path):
    sizes = await measure(client, path)
    assert any("htmx" in asset for asset in sizes), "htmx must be counted"
    assert sum(sizes.values()) <= BUDGET_BYTES, sizes
