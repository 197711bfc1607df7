"""TikTok clients for the pipeline's Lambdas: credentials from the destination's secret, QPS shared out.

TikTok's rate limit is per app across every concurrent caller (tiktok-api.md §6.3); each sender
runs in its own Lambda, so each takes its share: TIKTOK_QPS / MAP_CONCURRENCY.
"""

from __future__ import annotations

from aws_lambda_powertools.utilities import parameters

from .. import aws
from ..config.destinations import Destination
from ..environment import Environment
from ..tiktok import ratelimit
from ..tiktok.client import TikTokClient
from ..tiktok.credentials import CredentialsProvider
from ..tiktok.settings import ClientSettings

_providers: dict[str, CredentialsProvider] = {}


def provider(secret_name: str) -> CredentialsProvider:
    found = _providers.get(secret_name)
    if found is None:
        found = _providers[secret_name] = CredentialsProvider(secret_name)
    return found


def client_for(dest: Destination, *, share: int = 1) -> TikTokClient:
    settings = ClientSettings.from_env()
    if share > 1:
        settings = settings.replace(qps=settings.qps / share, events_qps=settings.events_qps / share)
    return TikTokClient(provider(dest.credentials), settings=settings)


def sender_factory(env: Environment):
    return lambda dest: client_for(dest, share=env.map_concurrency)


def reset() -> None:
    """Forget every cached client, credential and rate-limit bucket of this process.

    A Lambda container keeps them between invocations on purpose; the local emulation calls this
    when it starts a new emulated stack so nothing from an earlier one is reused.
    """
    _providers.clear()
    parameters.clear_caches()
    ratelimit.reset_registry()
    aws.reset()
