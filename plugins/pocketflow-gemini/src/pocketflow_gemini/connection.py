"""Where a provider connects and how it signs in: settings and environment, resolved.

Nothing here imports the SDK. Resolution happens when the provider makes its client
(on first use), so a missing key, project or credential is reported by the first
call, naming the variable or setting that would fix it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pocketflow.errors import ConfigError, MissingKeyError
from pocketflow.providers import ProviderSettings, first_set_variable
from pocketflow_gemini import FALLBACK_KEY_ENV, KEY_ENV

PROJECT_ENV = "GOOGLE_CLOUD_PROJECT"
LOCATION_ENV = "GOOGLE_CLOUD_LOCATION"
DEFAULT_LOCATION = "global"
GEMINI_API_URL = "https://generativelanguage.googleapis.com"
GEMINI_API_VERSION = "v1beta"
"""The Gemini API version calls use unless ``api_version`` says otherwise: JSON schemas
for output and tools (``responseJsonSchema``, ``parametersJsonSchema``) need it."""
VERTEX_GLOBAL_URL = "https://aiplatform.googleapis.com"


@dataclass(frozen=True, slots=True)
class Connection:
    """Everything needed to build one SDK client for a provider.

    ``api_key`` (Gemini API) or ``credentials`` (Vertex AI) sign the calls;
    ``key_variable`` names where the key came from, for error messages (neither the
    key nor the credentials are ever put in one). ``endpoint`` is the base URL calls go
    to, for messages as well.
    """

    endpoint: str
    base_url: str | None
    api_version: str | None
    api_key: str | None = field(default=None, repr=False)  # reprs show in tracebacks
    key_variable: str | None = None
    project: str | None = None
    location: str | None = None
    credentials: Any = field(default=None, repr=False)

    @property
    def vertex(self) -> bool:
        """Whether this is a Vertex AI connection."""
        return self.project is not None


def gemini_connection(
    settings: ProviderSettings, environ: Mapping[str, str] | None = None
) -> Connection:
    """The connection of a ``gemini``-kind provider.

    Key: the variable ``api_key_env`` names; else GEMINI_API_KEY, else GOOGLE_API_KEY.
    Base URL: ``base_url`` (e.g. a proxy), else the Gemini API's.
    """
    env = os.environ if environ is None else environ
    variable: str | None = settings.api_key_env
    if variable is None:
        variable = first_set_variable((KEY_ENV, FALLBACK_KEY_ENV), env)
        if variable is None:
            raise MissingKeyError(settings.name, f"{KEY_ENV} (or {FALLBACK_KEY_ENV})")
    api_key = settings.api_key(variable, env)
    return Connection(
        endpoint=(settings.base_url or GEMINI_API_URL).rstrip("/"),
        base_url=settings.base_url,
        api_version=_api_version(settings) or GEMINI_API_VERSION,
        api_key=api_key,
        key_variable=variable,
    )


def vertex_connection(
    settings: ProviderSettings, environ: Mapping[str, str] | None = None
) -> Connection:
    """The connection of a ``vertex``-kind provider: project and location from the
    settings (else GOOGLE_CLOUD_PROJECT / GOOGLE_CLOUD_LOCATION, else "global"), and
    application default credentials (:func:`default_credentials`)."""
    env = os.environ if environ is None else environ
    project = settings.extra.get("project") or env.get(PROJECT_ENV)
    if not project:
        raise settings.config_error(
            "project",
            f"is not set and neither is {PROJECT_ENV}: name the Google Cloud project "
            f'to bill (project = "my-project" under [providers.{settings.name}]).',
        )
    location = settings.extra.get("location") or env.get(LOCATION_ENV) or DEFAULT_LOCATION
    if location == "global":
        endpoint = VERTEX_GLOBAL_URL
    else:
        endpoint = f"https://{location}-aiplatform.googleapis.com"
    return Connection(
        endpoint=(settings.base_url or endpoint).rstrip("/"),
        base_url=settings.base_url,
        api_version=_api_version(settings),
        project=project,
        location=location,
        credentials=default_credentials(settings.name),
    )


CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform"


def default_credentials(provider: str) -> Any:
    """Google application default credentials, or a ConfigError saying how to get them."""
    import google.auth
    from google.auth.exceptions import DefaultCredentialsError

    try:
        credentials, _ = google.auth.default(scopes=[CLOUD_PLATFORM_SCOPE])
    except DefaultCredentialsError as error:
        raise ConfigError(
            f"Provider '{provider}' (Vertex AI) needs Google application default "
            "credentials, and none were found: run `gcloud auth application-default "
            "login`, or point GOOGLE_APPLICATION_CREDENTIALS at a service account key "
            f"file. ({error})"
        ) from None
    return credentials


def _api_version(settings: ProviderSettings) -> str | None:
    value = settings.extra.get("api_version")
    if value is not None and not value.strip():
        raise settings.config_error("api_version", 'must name a version ("v1", "v1beta").')
    return value or None
