"""How the simulator plugs into the portal (development only; `web/app.py` is the one
place that imports it, and only when ASAN_GATEWAY=simulator, which production refuses).

It provides the Asan İmza gateway (the simulated operator, its demo CA) and the phone's
pages; nothing in the production packages imports anything from `web/simulator/`.
"""

from __future__ import annotations

from web.identity.asan_imza.pki import DemoCA
from web.identity.asan_imza.replay_guard import DatabaseReplayGuard
from web.identity.asan_signin import AsanService
from web.settings import Settings
from web.simulator.operator import AsanSimulator
from web.simulator.routes import AsanSimulatorController
from web.simulator.store import DatabaseSimulatorStore

ROUTES = [AsanSimulatorController]


def load_demo_ca(settings: Settings) -> DemoCA:
    """The simulator's demo CA, made on first run under DATA_DIR (key encrypted)."""
    return DemoCA.load_or_create(settings.data_dir / "asan-demo-ca", settings.secret_key)


def build_asan_service(settings: Settings) -> AsanService:
    """Asan İmza through the simulated operator, trusting the demo CA."""
    return AsanService(
        gateway=AsanSimulator(DatabaseSimulatorStore()),
        trusted_ca_pem=load_demo_ca(settings).certificate_pem,
        replay_guard=DatabaseReplayGuard(),
    )
