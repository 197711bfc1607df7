"""TikTok clients for the pipeline's Lambdas: credentials from the destination's secret, one pacer per app.

TikTok's rate limit is per app across every concurrent caller (tiktok-api.md §6.3). Every client of
an app — every sender of every run — reserves its send slots from one schedule in the ledger table
(`tiktok/pacer.py`): together they run at the app's whole TIKTOK_QPS (Marketing API) and
TIKTOK_EVENTS_QPS (Events API), not at a fixed share each.
"""

from __future__ import annotations

import os

from aws_lambda_powertools.utilities import parameters

from .. import aws
from ..config.destinations import Destination
from ..environment import Environment
from ..tiktok import checks, pacer
from ..tiktok.client import TikTokClient
from ..tiktok.credentials import CredentialsProvider
from ..tiktok.settings import ClientSettings

_providers: dict[str, CredentialsProvider] = {}


def provider(secret_name: str) -> CredentialsProvider:
    found = _providers.get(secret_name)
    if found is None:
        # on this process's Secrets Manager client (Powertools' default provider makes a session of its own)
        found = _providers[secret_name] = CredentialsProvider(secret_name, secrets_client=aws.secretsmanager())
    return found


def client_for(dest: Destination) -> TikTokClient:
    settings = ClientSettings.from_env()
    prov = provider(dest.credentials)
    app = prov.get().app_id or dest.credentials  # one schedule per app; per secret when the app is not named
    table = os.environ.get("LEDGER_TABLE") or None
    pace = {"margin": settings.pace_margin, "catch_up": settings.pace_catch_up}
    pacers = [pacer.pacer_for(table, app, settings.qps, pacer.MARKETING, **pace),
              pacer.pacer_for(table, app, settings.events_qps, pacer.EVENTS, **pace)]
    return TikTokClient(prov, settings=settings, pacer=pacers)


def sender_factory(env: Environment):
    return client_for


def reset() -> None:
    """Forget every cached client, credential and pacer of this process.

    A Lambda container keeps them between invocations on purpose; the local emulation calls this
    when it starts a new emulated stack so nothing from an earlier one is reused.
    """
    _providers.clear()
    parameters.clear_caches()
    pacer.reset_registry()
    checks.recent.clear()
    aws.reset()
