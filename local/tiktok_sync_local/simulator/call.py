"""What an endpoint handler receives: the world, the knobs, the parsed request, the caller's token."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .access import check_advertiser
from .config import SimConfig
from .faults import Faults
from .state import Advertiser, Token, World


@dataclass
class Call:
    world: World
    config: SimConfig
    faults: Faults
    now: float
    query: dict[str, str]
    body: Any = None  # parsed JSON body of a POST
    body_bytes: int = 0
    token: Token | None = None

    def advertiser(self, advertiser_id: str) -> Advertiser:
        """The advertiser, if it exists and the caller's token may operate it (else 40001/40300)."""
        assert self.token is not None
        return check_advertiser(self.world, self.token, advertiser_id, self.config.unknown_advertiser_code)
