"""A profile in use: its service, its adapter and what the status bar says of it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from testdeck import credentials
from testdeck.config import Config, Profile
from testdeck.http import ApiClient
from testdeck.resources import Service
from testdeck.services import get_service


@dataclass
class ProfileSession:
    profile: Profile
    service: Service
    client: ApiClient
    interval: float
    read_only: bool
    secret_source: str
    status_extra: str = ""
    status_at: float = 0.0
    views: dict[str, Any] = field(default_factory=dict)  # per-resource UI state (scope)

    @classmethod
    def open(cls, config: Config, profile: Profile, *, read_only: bool = False,
             transport: httpx.AsyncBaseTransport | None = None) -> ProfileSession:
        service = get_service(profile.service)
        secret = credentials.get_secret(profile.name)
        client = service.client(profile, secret.value, read_only=read_only, transport=transport)
        return cls(profile, service, client, config.refresh_for(profile), read_only, secret.source)
