"""Configuration: where the key comes from, Vertex AI's project and credentials, and
what a user sees when one is missing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import google.auth
import pytest
import respx
from gemini_fakes import MODEL, FakeCredentials, Runner, text_json

from pocketflow import call_llm_async
from pocketflow.errors import ConfigError, MissingKeyError


def test_the_key_is_sent_in_its_header_from_gemini_api_key(
    gemini_env: pytest.MonkeyPatch, gemini_api: respx.Route, run: Runner
) -> None:
    gemini_api.respond(json=text_json("Hi."))
    assert run(call_llm_async("Hi")) == "Hi."
    request = gemini_api.calls.last.request
    assert request.headers["x-goog-api-key"] == "AIza-test-0123456789abcdef"
    assert "key=" not in str(request.url)  # never in the URL, where logs would keep it


def test_google_api_key_is_the_fallback(
    pocketflow_env: pytest.MonkeyPatch, gemini_api: respx.Route, run: Runner
) -> None:
    pocketflow_env.setenv("POCKETFLOW_LLM", f"gemini:{MODEL}")
    pocketflow_env.setenv("GOOGLE_API_KEY", "AIza-fallback")
    gemini_api.respond(json=text_json())
    run(call_llm_async("Hi"))
    assert gemini_api.calls.last.request.headers["x-goog-api-key"] == "AIza-fallback"


def test_a_missing_key_names_both_variables(
    pocketflow_env: pytest.MonkeyPatch, gemini_api: respx.Route, run: Runner
) -> None:
    pocketflow_env.setenv("POCKETFLOW_LLM", f"gemini:{MODEL}")
    with pytest.raises(MissingKeyError, match=r"GEMINI_API_KEY \(or GOOGLE_API_KEY\) is not set"):
        run(call_llm_async("Hi"))
    assert not gemini_api.called


def test_api_key_env_base_url_and_api_version_from_pocketflow_toml(
    pocketflow_env: pytest.MonkeyPatch, vendor_http: respx.MockRouter, run: Runner
) -> None:
    pocketflow_env.setenv("POCKETFLOW_LLM", f"gemini:{MODEL}")
    pocketflow_env.setenv("TEAM_GEMINI_KEY", "AIza-team")
    Path("pocketflow.toml").write_text(
        '[providers.gemini]\napi_key_env = "TEAM_GEMINI_KEY"\n'
        'base_url = "https://proxy.example.test"\napi_version = "v1"\n'
    )
    route = vendor_http.post(f"https://proxy.example.test/v1/models/{MODEL}:generateContent")
    route.respond(json=text_json("Via the proxy."))
    assert run(call_llm_async("Hi")) == "Via the proxy."
    assert route.calls.last.request.headers["x-goog-api-key"] == "AIza-team"


def test_an_empty_api_version_is_a_config_error(
    gemini_env: pytest.MonkeyPatch, gemini_api: respx.Route, run: Runner
) -> None:
    Path("pocketflow.toml").write_text('[providers.gemini]\napi_version = " "\n')
    with pytest.raises(
        ConfigError, match=r"\[providers.gemini\] 'api_version' must name a version"
    ):
        run(call_llm_async("Hi"))
    assert not gemini_api.called


def test_vertex_needs_a_project(pocketflow_env: pytest.MonkeyPatch, run: Runner) -> None:
    pocketflow_env.setenv("POCKETFLOW_LLM", f"vertex:{MODEL}")
    with pytest.raises(ConfigError, match=r"\[providers.vertex\] 'project' is not set"):
        run(call_llm_async("Hi"))


def test_vertex_without_credentials_says_how_to_get_them(
    pocketflow_env: pytest.MonkeyPatch, tmp_path: Path, run: Runner
) -> None:
    pocketflow_env.setenv("POCKETFLOW_LLM", f"vertex:{MODEL}")
    pocketflow_env.setenv("GOOGLE_CLOUD_PROJECT", "my-project")
    pocketflow_env.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "missing.json"))
    with pytest.raises(ConfigError, match="gcloud auth application-default login"):
        run(call_llm_async("Hi"))


def test_vertex_calls_the_project_location_endpoint_with_a_bearer_token(
    pocketflow_env: pytest.MonkeyPatch, vendor_http: respx.MockRouter, run: Runner
) -> None:
    pocketflow_env.setenv("POCKETFLOW_LLM", f"vertex:{MODEL}")
    Path("pocketflow.toml").write_text(
        '[providers.vertex]\nproject = "my-project"\nlocation = "europe-west4"\n'
    )
    pocketflow_env.setattr(google.auth, "default", lambda **_: (FakeCredentials(), None))
    url = (
        "https://europe-west4-aiplatform.googleapis.com/v1beta1/projects/my-project/"
        f"locations/europe-west4/publishers/google/models/{MODEL}:generateContent"
    )
    route = vendor_http.post(url__regex=url.replace(".", r"\.").replace("v1beta1", "v1[a-z0-9]*"))
    route.respond(json=text_json("From Vertex."))
    assert run(call_llm_async("Hi")) == "From Vertex."
    assert route.calls.last.request.headers["authorization"] == "Bearer ya29.test-token"


def test_loading_the_plugin_imports_no_sdk() -> None:
    code = (
        "import sys\n"
        "from pocketflow.runtime import current_runtime\n"
        "runtime = current_runtime()\n"
        "assert 'gemini' in runtime.plugins.llm_providers\n"
        "assert 'vertex' in runtime.plugins.llm_providers\n"
        "print('google.genai' in sys.modules)\n"
    )
    environment = {k: v for k, v in os.environ.items() if not k.startswith("POCKETFLOW_")}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=environment, check=False
    )
    assert (done.returncode, done.stdout.strip()) == (0, "False"), done.stderr


@pytest.mark.parametrize(
    ("variables", "shown"),
    [
        ({}, "GEMINI_API_KEY unset"),
        ({"GOOGLE_API_KEY": "AIza-fallback"}, "GOOGLE_API_KEY set"),
        ({"GEMINI_API_KEY": "AIza-1", "GOOGLE_API_KEY": "AIza-2"}, "GEMINI_API_KEY set"),
    ],
)
def test_pocketflow_models_shows_the_key_the_provider_will_use(
    pocketflow_env: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    variables: dict[str, str],
    shown: str,
) -> None:
    from pocketflow.cli import main

    for variable, value in variables.items():
        pocketflow_env.setenv(variable, value)
    assert main(["models"]) == 0
    line = next(line for line in capsys.readouterr().out.splitlines() if "kind gemini" in line)
    assert f"key {shown}" in line
    assert "AIza" not in line
