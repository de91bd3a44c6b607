"""The document's skill version check: fetch ``skill.json`` from the platform host and compare versions.

Fetched only from the root of the API base URL's host (https://retake.tv/skill.json by default), without the
access token and without following any redirect, as the document's security boundary requires. The last
version seen is cached beside the credentials file.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from streamer.platform.credentials import CredentialStore
from streamer.platform.errors import ResponseFormatError
from streamer.platform.transport import PlatformHTTP
from streamer.platform.urls import skill_json_url

log = logging.getLogger(__name__)

DOCUMENTED_VERSION = "2.1.2"  # the version of the API document this client was written against
CACHE_NAME = "skill-version.json"


@dataclass(frozen=True)
class SkillCheck:
    current: str
    cached: str | None  # what we saw last time (None: never checked, compared with DOCUMENTED_VERSION)

    @property
    def changed(self) -> bool:
        return self.current != (self.cached or DOCUMENTED_VERSION)

    @property
    def warning(self) -> str | None:
        if not self.changed:
            return None
        before = self.cached or f"{DOCUMENTED_VERSION} (the version this client implements)"
        return (f"the platform's skill.json version changed from {before} to {self.current}: re-read "
                "skill.md on the platform host before going live; endpoints or fields may differ")


def check_skill_version(http: PlatformHTTP, store: CredentialStore, *, save: bool = True) -> SkillCheck:
    """Fetch skill.json, compare with the cache, log a warning when it changed, then remember the version."""
    url = skill_json_url(http.api_url)
    data = http.call_url("GET", url, endpoint="GET /skill.json", idempotent=True)
    version = data.get("version") if isinstance(data, Mapping) else None
    if not isinstance(version, (str, int, float)) or isinstance(version, bool):
        raise ResponseFormatError(f"{url} has no 'version' field — the platform's skill.json may have moved")
    cached_data = store.read_sidecar(CACHE_NAME) or {}
    cached = cached_data.get("version")
    result = SkillCheck(current=str(version), cached=str(cached) if cached is not None else None)
    if result.warning:
        log.warning("%s", result.warning)
    if save:
        store.write_sidecar(CACHE_NAME, {"version": result.current, "url": url})
    return result
