"""The default demo world a seeded Simulator starts with (ids are fake, tokens are public test values)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DemoWorld:
    app_id: str = "7300000000000000001"
    secret: str = "sim-app-secret"
    advertiser_ids: tuple[str, ...] = ("7000000000000000001", "7000000000000000002")
    advertiser_names: tuple[str, ...] = ("Demo Brand US", "Demo Brand EU")
    business_center: str = "bc-1"
    offline_event_set_id: str = "7311111111111111111"
    crm_event_set_id: str = "7322222222222222222"
    access_token: str = "sim-access-token"
    auth_code: str = "sim-auth-code"

    @property
    def advertiser_id(self) -> str:
        """The first advertiser, owner of both event sets."""
        return self.advertiser_ids[0]


DEMO = DemoWorld()


def install_demo_world(sim) -> None:
    sim.add_app(DEMO.app_id, DEMO.secret)
    for advertiser_id, name in zip(DEMO.advertiser_ids, DEMO.advertiser_names, strict=True):
        sim.add_advertiser(advertiser_id, name=name, business_center=DEMO.business_center)
    sim.add_event_set(DEMO.offline_event_set_id, DEMO.advertiser_id, kind="offline")
    sim.add_event_set(DEMO.crm_event_set_id, DEMO.advertiser_id, kind="crm")
    sim.add_token(DEMO.access_token, app_id=DEMO.app_id, advertiser_ids=list(DEMO.advertiser_ids))
    # Single use but no expiry, so a long-running CLI simulator and tests with an injected clock can use it.
    sim.add_auth_code(DEMO.auth_code, DEMO.app_id, list(DEMO.advertiser_ids), ttl_seconds=None)
