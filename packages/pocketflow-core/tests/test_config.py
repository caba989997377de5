"""Configuration: precedence, discovery, and the message for every wrong key or type."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from pocketflow import complete_async
from pocketflow.config import load_config
from pocketflow.errors import ConfigError


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def answered_by(model: str | None = None) -> str:
    response = asyncio.run(complete_async("hi", model=model))
    return f"{response.provider}:{response.model}"


def test_nothing_configured_lists_providers_and_a_fix(pocketflow_env: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match="No LLM is configured") as error:
        asyncio.run(complete_async("hi"))
    assert "offline" in str(error.value)
    assert "POCKETFLOW_LLM=" in str(error.value)


def test_file_sets_the_default_model(pocketflow_env: pytest.MonkeyPatch) -> None:
    write(Path("pocketflow.toml"), 'llm = "offline:echo"\n')
    assert answered_by() == "offline:echo"


def test_environment_beats_the_file(pocketflow_env: pytest.MonkeyPatch) -> None:
    write(Path("pocketflow.toml"), 'llm = "offline:echo"\n')
    pocketflow_env.setenv("POCKETFLOW_LLM", "offline:summarize")
    assert answered_by() == "offline:summarize"


def test_argument_beats_the_environment(pocketflow_env: pytest.MonkeyPatch) -> None:
    pocketflow_env.setenv("POCKETFLOW_LLM", "offline:summarize")
    assert answered_by("offline:echo") == "offline:echo"


def test_file_is_found_from_a_subfolder(pocketflow_env: pytest.MonkeyPatch) -> None:
    write(Path("pocketflow.toml"), 'llm = "offline:echo"\n')
    Path("deep/er").mkdir(parents=True)
    pocketflow_env.chdir("deep/er")
    config = load_config()
    assert config.llm == "offline:echo"
    assert config.path == (Path.cwd() / "../../pocketflow.toml").resolve()


def test_pyproject_tool_table_is_read(pocketflow_env: pytest.MonkeyPatch) -> None:
    write(
        Path("pyproject.toml"), '[project]\nname = "x"\n[tool.pocketflow]\nllm = "offline:echo"\n'
    )
    assert answered_by() == "offline:echo"


def test_pyproject_without_the_table_is_skipped(pocketflow_env: pytest.MonkeyPatch) -> None:
    write(Path("pocketflow.toml"), 'llm = "offline:echo"\n')
    Path("app").mkdir()
    write(Path("app/pyproject.toml"), '[project]\nname = "app"\n')
    pocketflow_env.chdir("app")
    assert load_config().llm == "offline:echo"


def test_pocketflow_config_names_the_file(
    pocketflow_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    chosen = write(tmp_path / "elsewhere.toml", 'llm = "offline:summarize"\n')
    write(Path("pocketflow.toml"), 'llm = "offline:echo"\n')
    pocketflow_env.setenv("POCKETFLOW_CONFIG", str(chosen))
    assert answered_by() == "offline:summarize"


def test_pocketflow_config_pointing_nowhere(pocketflow_env: pytest.MonkeyPatch) -> None:
    pocketflow_env.setenv("POCKETFLOW_CONFIG", "missing.toml")
    with pytest.raises(ConfigError, match=r"POCKETFLOW_CONFIG points to missing\.toml"):
        load_config()


def test_sources_say_where_each_setting_came_from(pocketflow_env: pytest.MonkeyPatch) -> None:
    write(Path("pocketflow.toml"), 'llm = "offline:echo"\nfeedback = "auto"\n')
    pocketflow_env.setenv("POCKETFLOW_FEEDBACK", "auto:deny")
    config = load_config()
    assert config.source_of("llm").startswith("file ")
    assert config.source_of("feedback") == "environment POCKETFLOW_FEEDBACK"
    assert config.source_of("fallbacks") == "default"


def test_alias_resolves_to_its_model(pocketflow_env: pytest.MonkeyPatch) -> None:
    write(Path("pocketflow.toml"), 'llm = "fast"\n[aliases]\nfast = "offline:echo"\n')
    assert answered_by() == "offline:echo"


def test_alias_loop_is_reported(pocketflow_env: pytest.MonkeyPatch) -> None:
    write(Path("pocketflow.toml"), '[aliases]\na = "b"\nb = "a"\n')
    with pytest.raises(ConfigError, match="alias 'a' loops back"):
        answered_by("a")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            'lm = "offline:echo"\n',
            r"unknown key 'lm'\. Known keys: aliases, embedding, embedding_fallbacks, executors, "
            r"fallbacks",
        ),
        ("llm = 3\n", r"'llm' must be a model string .*, not int 3"),
        ('fallbacks = "offline:echo"\n', r"'fallbacks' must be a list of model strings"),
        ("fallbacks = [1]\n", r"'fallbacks\[0\]' must be a model string"),
        ("[aliases]\nfast = 1\n", r"'aliases.fast' must be a string"),
        ('providers = "x"\n', r"'providers' must be a table"),
        ('[providers]\nopenai = "x"\n', r"'providers.openai' must be a \[providers.openai\] table"),
        ("llm = \n", r"not valid TOML"),
    ],
)
def test_each_wrong_key_or_type_names_file_key_and_form(
    pocketflow_env: pytest.MonkeyPatch, text: str, message: str
) -> None:
    path = write(Path("pocketflow.toml"), text)
    with pytest.raises(ConfigError, match=message) as error:
        load_config()
    assert str(path.resolve()) in str(error.value)


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ("timout = 3", r"\[providers.offline\]: unknown key 'timout'\. Known keys: .*timeout"),
        ('timeout = "3"', r"\[providers.offline\] 'timeout' must be seconds .*, not str '3'"),
        ("timeout = 0", r"'timeout' must be greater than 0"),
        ("max_retries = -1", r"'max_retries' must be 0 or more"),
        ("max_concurrency = true", r"'max_concurrency' must be .*, not bool True"),
        ("headers = { x = 1 }", r"'headers.x' must be a string"),
        ("replies = 3", r"'replies' must be a list, not int 3"),
    ],
)
def test_provider_table_errors_name_the_key(
    pocketflow_env: pytest.MonkeyPatch, table: str, message: str
) -> None:
    write(Path("pocketflow.toml"), f"[providers.offline]\n{table}\n")
    with pytest.raises(ConfigError, match=message):
        answered_by("offline:echo")


def test_feedback_table_errors_name_the_key(pocketflow_env: pytest.MonkeyPatch) -> None:
    from pocketflow import gather_user_feedback

    write(Path("pocketflow.toml"), '[feedback_providers.auto]\ndecisions = "deny"\n')
    with pytest.raises(
        ConfigError, match=r"\[feedback_providers.auto\]: 'decisions' must be a list"
    ):
        asyncio.run(gather_user_feedback("x", provider="auto"))
