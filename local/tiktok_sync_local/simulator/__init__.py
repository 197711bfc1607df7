"""A strict local simulator of TikTok's Business API v1.3: segment audiences, Events API 2.0, OAuth.

    from tiktok_sync_local.simulator import DEMO, Simulator
    with Simulator() as sim:
        base_url = sim.base_url          # http://127.0.0.1:<port>/open_api/v1.3/

Wire format and rules: tiktok-api.md (§1 envelope, §2 audiences, §3 events, §5 OAuth,
§8 checklist). Knobs: `SimConfig`; faults: `Faults`; control over HTTP: `control`.
"""

from .config import SimConfig
from .core import DEFAULT_PORT, Simulator, serve_forever
from .demo import DEMO
from .faults import Faults

__all__ = ["DEFAULT_PORT", "DEMO", "Faults", "SimConfig", "Simulator", "serve_forever"]
