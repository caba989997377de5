"""Where a provider connects and with which key: settings and environment, resolved.

Nothing here imports the SDK. Resolution happens when the provider makes its client
(on first use), so a missing key or endpoint is reported by the first call, naming
the variable or setting that would fix it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from pocketflow.errors import ConfigError
from pocketflow.providers import ProviderSettings

OPENAI_KEY_ENV = "OPENAI_API_KEY"
OPENAI_BASE_URL_ENV = "OPENAI_BASE_URL"
OPENAI_ORG_ENV = "OPENAI_ORG_ID"
OPENAI_PROJECT_ENV = "OPENAI_PROJECT_ID"
AZURE_KEY_ENV = "AZURE_OPENAI_API_KEY"
AZURE_ENDPOINT_ENV = "AZURE_OPENAI_ENDPOINT"
AZURE_API_VERSION_ENV = "OPENAI_API_VERSION"
AZURE_DEFAULT_API_VERSION = "2024-10-21"

PLACEHOLDER_KEY = "no-key-required"
"""Sent to keyless servers (``require_key = false``): the SDK always sends some key."""

MAX_TOKENS = "max_tokens"
MAX_COMPLETION_TOKENS = "max_completion_tokens"
MAX_TOKENS_PARAMS = (MAX_TOKENS, MAX_COMPLETION_TOKENS)


@dataclass(frozen=True, slots=True)
class Connection:
    """Everything needed to build one SDK client for a provider.

    ``key_variable`` names where the key came from (None for a keyless server's
    placeholder), for error messages; ``api_key`` is never put in one.
    ``base_url`` None means the SDK's default (OpenAI's API). For Azure,
    ``azure_endpoint``, ``api_version`` and ``deployment`` are set.
    """

    api_key: str = field(repr=False)  # reprs show in tracebacks and debuggers
    key_variable: str | None
    base_url: str | None
    organization: str | None
    project: str | None
    max_connections: int
    max_tokens_param: str
    azure_endpoint: str | None = None
    api_version: str | None = None
    deployment: str | None = None

    @property
    def secret(self) -> str | None:
        """The key to scrub from vendor messages (None for the placeholder)."""
        return None if self.api_key == PLACEHOLDER_KEY else self.api_key


def openai_connection(
    settings: ProviderSettings, environ: Mapping[str, str] | None = None
) -> Connection:
    """The connection of an ``openai``-kind provider.

    Key: ``api_key_env`` (default OPENAI_API_KEY), required unless ``require_key =
    false``; then the variable is used only if ``api_key_env`` names one and it is set,
    else a placeholder is sent (a local server never gets your OpenAI key by accident).
    Base URL: ``base_url``, else OPENAI_BASE_URL, else the SDK's default. Organization
    and project: the settings, else OPENAI_ORG_ID / OPENAI_PROJECT_ID, but only when
    talking to OpenAI itself (no ``base_url`` configured).
    """
    env = os.environ if environ is None else environ
    extra = settings.extra
    variable: str | None
    if extra.get("require_key", True):
        variable = settings.api_key_env or OPENAI_KEY_ENV
        api_key = settings.api_key(OPENAI_KEY_ENV, env)
    else:
        variable = settings.api_key_env
        api_key = env.get(variable, "") if variable else ""
        if not api_key:
            api_key, variable = PLACEHOLDER_KEY, None
    base_url = settings.base_url or env.get(OPENAI_BASE_URL_ENV) or None
    own_api = settings.base_url is None
    organization = extra.get("organization") or (env.get(OPENAI_ORG_ENV) if own_api else None)
    project = extra.get("project") or (env.get(OPENAI_PROJECT_ENV) if own_api else None)
    default_param = MAX_COMPLETION_TOKENS if base_url is None else MAX_TOKENS
    return Connection(
        api_key=api_key,
        key_variable=variable,
        base_url=base_url,
        organization=organization or None,
        project=project or None,
        max_connections=_max_connections(settings),
        max_tokens_param=_max_tokens_param(settings, default_param),
    )


def azure_connection(
    settings: ProviderSettings, environ: Mapping[str, str] | None = None
) -> Connection:
    """The connection of an ``azure``-kind provider.

    Key: ``api_key_env`` (default AZURE_OPENAI_API_KEY). Endpoint (the resource URL,
    e.g. ``https://my-resource.openai.azure.com``): ``base_url``, else
    AZURE_OPENAI_ENDPOINT. API version: ``api_version``, else OPENAI_API_VERSION, else
    a GA default. ``deployment``: the deployment to call; when unset, the model name
    after the colon is the deployment.
    """
    env = os.environ if environ is None else environ
    extra = settings.extra
    api_key = settings.api_key(AZURE_KEY_ENV, env)
    endpoint = settings.base_url or env.get(AZURE_ENDPOINT_ENV)
    if not endpoint:
        raise ConfigError(
            f"Provider '{settings.name}' needs its Azure OpenAI endpoint: set base_url under "
            f'[providers.{settings.name}] (base_url = "https://<resource>.openai.azure.com") '
            f"or the environment variable {AZURE_ENDPOINT_ENV}."
        )
    return Connection(
        api_key=api_key,
        key_variable=settings.api_key_env or AZURE_KEY_ENV,
        base_url=None,
        organization=None,
        project=None,
        max_connections=_max_connections(settings),
        max_tokens_param=_max_tokens_param(settings, MAX_COMPLETION_TOKENS),
        azure_endpoint=endpoint,
        api_version=(
            extra.get("api_version") or env.get(AZURE_API_VERSION_ENV) or AZURE_DEFAULT_API_VERSION
        ),
        deployment=extra.get("deployment") or None,
    )


def _max_connections(settings: ProviderSettings) -> int:
    value: int = settings.extra.get("max_connections", settings.max_concurrency)
    if value <= 0:
        raise settings.config_error("max_connections", f"must be greater than 0, not {value}.")
    return value


def _max_tokens_param(settings: ProviderSettings, default: str) -> str:
    value: str = settings.extra.get("max_tokens_param", default)
    if value not in MAX_TOKENS_PARAMS:
        raise settings.config_error(
            "max_tokens_param", f'must be "max_tokens" or "max_completion_tokens", not {value!r}.'
        )
    return value
