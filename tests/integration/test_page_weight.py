"""Every page's first load fits the 60 KB (gzip) budget, htmx included."""

import pytest

from bench.page_weight import BUDGET_BYTES, PAGES, SIGNED_IN_PAGES, measure
from tests.support.web import sign_in


@pytest.mark.parametrize("path", PAGES)
async def test_first_load_fits_the_budget(client, path):
    sizes = await measure(client, path)
    assert any("htmx" in asset for asset in sizes), "htmx must be counted"
    assert sum(sizes.values()) <= BUDGET_BYTES, sizes


@pytest.mark.usefixtures("seeded")
@pytest.mark.parametrize(("username", "party", "path"), SIGNED_IN_PAGES)
async def test_pages_behind_sign_in_fit_the_budget(client, username, party, path):
    await sign_in(client, username, party=party)
    page = await client.get(path)
    assert page.status_code == 200, path
    sizes = await measure(client, path)
    assert sum(sizes.values()) <= BUDGET_BYTES, sizes
