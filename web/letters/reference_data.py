"""Reference data every installation needs: DGK's customs bodies.

Inserted once, when the table is empty (`python -m web migrate|serve`, and the demo
seed); after that the list belongs to the administrators, who edit it on
/registry/bodies, so a later start never overwrites their changes.
"""

from __future__ import annotations

from models.letters import CustomsBody

CUSTOMS_BODIES = (
    "Dövlət Gömrük Komitəsinin Aparatı",
    "Bakı Baş Gömrük İdarəsi",
    "Hava Nəqliyyatı Baş Gömrük İdarəsi",
    "Sumqayıt Gömrük İdarəsi",
    "Gəncə Gömrük İdarəsi",
    "Şimal Gömrük İdarəsi",
    "Cənub Gömrük İdarəsi",
    "Qərb Gömrük İdarəsi",
)


async def ensure_customs_bodies() -> int:
    """Insert the initial list when there is no body at all; return how many were added."""
    if await CustomsBody.exists():
        return 0
    for position, name in enumerate(CUSTOMS_BODIES, start=1):
        await CustomsBody.create(name=name, position=position * 10)
    return len(CUSTOMS_BODIES)
