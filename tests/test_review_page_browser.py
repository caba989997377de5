"""The review page in a real headless Chromium: the issue's round trip, as people do it.

The seed example (SummarizeThenVerify, unchanged) runs durably with ``inbox`` feedback
against the local vendor server and waits. ``pocketflow serve`` runs; the browser opens
the address it printed, sees the question, denies it with a comment; a worker resumes
the run, which waits again with a new draft (the vendor now answers longer); the
browser shows that draft and approves it; a worker finishes the run with that draft.

Chromium and chromedriver come from the system's packages (``.ci/run`` installs them);
without them these tests are skipped, saying so. Screenshots of the list and the
question page are written to a temporary folder, or to the folder named by
``POCKETFLOW_SCREENSHOTS`` (``docs/screenshots.sh`` uses it to refresh the README's).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from vendor_server import VendorServer

ROOT = Path(__file__).parent.parent
EXAMPLE = ROOT / "examples" / "summarize_then_verify"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
SCREENSHOTS = "POCKETFLOW_SCREENSHOTS"
WAIT_SECONDS = 15


def _missing() -> str | None:
    for path in (CHROMIUM, CHROMEDRIVER):
        if not Path(path).exists():
            return f"{path} is not installed (apt-get install chromium chromium-driver)"
    try:
        import selenium  # noqa: F401 - only whether it is installed
    except ImportError:
        return "selenium is not installed (uv sync installs the dev group)"
    return None


pytestmark = [
    pytest.mark.skipif(_missing() is not None, reason=str(_missing())),
    pytest.mark.filterwarnings("ignore:Flow ends"),
]


@pytest.fixture(scope="session")
def chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One headless Chromium (through the packaged chromedriver) for the whole session."""
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = CHROMIUM
    profile = tmp_path_factory.mktemp("chromium-profile")
    for flag in (
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage", "--window-size=1000,720", f"--user-data-dir={profile}",
    ):  # fmt: skip
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(WAIT_SECONDS)
    try:
        yield driver
    finally:
        driver.quit()


class VendorInThread:
    """The local vendor server on its own event loop, so a test may change its replies."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.server = VendorServer()

    def __enter__(self) -> VendorServer:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.server.start(), self.loop).result(10)
        return self.server

    def __exit__(self, *exc_info: object) -> None:
        asyncio.run_coroutine_threadsafe(self.server.stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture
def project(tmp_path: Path) -> Iterator[tuple[Path, VendorServer, dict[str, str]]]:
    """A project folder set up for inbox feedback on the local vendor; its environment."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("POCKETFLOW_", "OPENAI_", "ANTHROPIC_"))
    }
    environment["LOCAL_KEY"] = "sk-browser-test"
    with VendorInThread() as vendor:
        (tmp_path / "pocketflow.toml").write_text(
            'llm = "local:gpt-4o-mini"\nfeedback = "inbox"\n'
            f'[providers.local]\nkind = "openai"\nbase_url = "{vendor.base_url}/v1"\n'
            'api_key_env = "LOCAL_KEY"\nmax_retries = 0\n'
        )
        yield tmp_path, vendor, environment


def run(folder: Path, environment: dict[str, str], *argv: str, expect: int = 0) -> str:
    result = subprocess.run(
        [sys.executable, *argv], cwd=folder, env=environment, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == expect, output
    return output


def start_waiting_runs(folder: Path, environment: dict[str, str], **runs: str) -> None:
    """Run the example durably for each ``name=text``, in turn; each ends waiting.

    A name ending in ``_offline`` runs on the offline model: no SDK to import, quicker.
    """
    for name, text in runs.items():
        document = folder / f"{name}.txt"
        document.write_text(f"{text}\n[call-{name}]\n")
        argv = [str(EXAMPLE), str(document), "--run-id", name]
        if name.endswith("_offline"):
            argv += ["--llm", "offline:summarize"]
        output = run(folder, environment, *argv, expect=4)
        assert f"Run '{name}' is waiting for a person's verdict" in output


def test_deny_with_a_comment_then_approve_the_new_draft_in_a_real_browser(
    chromium: Any, project: tuple[Path, VendorServer, dict[str, str]], tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.wait import WebDriverWait

    from pocketflow_web.testing import serve_process

    folder, vendor, environment = project
    shots = Path(os.environ.get(SCREENSHOTS) or tmp_path / "screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    start_waiting_runs(
        folder,
        environment,
        bats_offline="Bats navigate by echolocation. Most species eat insects.",
        owls="Owls hunt at night and sleep by day.\nTheir soft feathers make their flight silent.",
    )

    def content() -> str:
        text: str = chromium.find_element(By.CSS_SELECTOR, "pre.content").text
        return text

    def wait_for(text: str) -> None:
        WebDriverWait(chromium, WAIT_SECONDS).until(lambda driver: text in driver.page_source)

    with serve_process(cwd=folder, env=environment) as (server, address):
        chromium.set_window_size(1000, 720)
        chromium.get(address)
        wait_for("Waiting for a verdict")
        assert "token" not in chromium.current_url  # exchanged for the cookie
        items = chromium.find_elements(By.CSS_SELECTOR, "ul.questions a")
        names = [item.get_attribute("href").rsplit("/", 1)[1] for item in items]
        assert names == ["owls", "bats_offline"]  # newest first
        chromium.save_screenshot(str(shots / "review-list.png"))

        items[0].click()
        wait_for("Recent steps")
        first_draft = content()
        assert first_draft.startswith("echo: Summarize: Owls hunt at night and sleep by day.\n")
        chromium.find_element(By.ID, "comment").send_keys("Say what makes their flight silent.")
        chromium.set_window_size(430, 1000)  # a phone
        chromium.save_screenshot(str(shots / "review-question.png"))
        chromium.set_window_size(1000, 720)
        chromium.find_element(By.CSS_SELECTOR, "button.deny").click()
        wait_for("Your answer (deny) is recorded.")

        vendor.extra_words = 6  # the next draft differs
        resumed = run(folder, environment, "-m", "pocketflow", "runs", "worker", "--once",
                      "--poll", "0.05")  # fmt: skip
        assert "owls: waiting again" in resumed
        chromium.refresh()
        wait_for('value="approve"')
        second_draft = content()
        assert second_draft != first_draft
        assert second_draft.endswith("lorem ipsum dolor sit amet consectetur")
        chromium.find_element(By.CSS_SELECTOR, "button.approve").click()
        wait_for("Your answer (approve) is recorded.")

    finished = run(folder, environment, "-m", "pocketflow", "runs", "worker", "--once",
                   "--poll", "0.05")  # fmt: skip
    assert "owls: done" in finished
    shown = json.loads(
        run(folder, environment, "-m", "pocketflow", "runs", "show", "owls", "--state", "--json")
    )
    assert (shown["status"], shown["state"]["outcome"]) == ("done", "approved")
    assert shown["state"]["summary"] == second_draft
    assert vendor.stats.by_key["call-owls"] == 2
    assert server.output.count(address.partition("?token=")[2]) == 1  # printed, never logged
    assert all(path.stat().st_size > 10_000 for path in shots.glob("review-*.png"))
