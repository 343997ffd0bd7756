"""The sign-in means' services as dependencies: `create_app` builds each one into the app's
state at start-up (None when that means is not configured here), and handlers ask for it by
name (`asan: AsanSignIn`, `egov: EgovSignIn`, `e_imza_service: EImzaSignIn`).

A new means of sign-in adds its service here, one line each, and calls
`web/identity/sign_in.complete_sign_in` once it knows who is there.
"""

from __future__ import annotations

from litestar.datastructures import State
from litestar.di import NamedDependency, Provide

from web.identity.asan_signin import AsanService
from web.identity.e_imza import EImzaService
from web.identity.egov_oidc import EgovService

AsanSignIn = NamedDependency[AsanService | None]
EgovSignIn = NamedDependency[EgovService | None]
EImzaSignIn = NamedDependency[EImzaService | None]


def _from_state(name: str) -> Provide:
    def provide(state: State) -> object:
        return state.get(name)

    return Provide(provide, sync_to_thread=False)


# dependency name -> its state key
SIGN_IN_MEANS = {
    "asan": _from_state("asan"),
    "egov": _from_state("egov"),
    "e_imza_service": _from_state("e_imza"),
}
