"""The examples run end to end on the offline provider, as a newcomer runs them."""

from __future__ import annotations

from pathlib import Path

from examples_support import run_example


def test_summarize_then_verify_runs_offline_by_default(tmp_path: Path) -> None:
    result = run_example("summarize_then_verify", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Running offline (offline:summarize)")
    assert "POCKETFLOW_LLM=openai:gpt-4o-mini" in lines[0]
    assert "Summary (approved after 1 attempt):" in result.stdout
    assert "[offline summary] PocketFlow models an LLM application" in result.stdout
    assert "1 LLM call(s), tokens" in result.stdout
    assert ", cost unknown, " in result.stdout  # the offline model has no price, not $0


def test_denied_summaries_stop_at_max_attempts(tmp_path: Path) -> None:
    result = run_example(
        "summarize_then_verify", "--feedback", "auto:deny", "--max-attempts", "2", cwd=tmp_path
    )
    assert result.returncode == 3
    assert "No summary was approved in 2 attempts; the last draft:" in result.stdout
    assert "2 LLM call(s)" in result.stdout


def test_deny_then_approve_redoes_the_summary(tmp_path: Path) -> None:
    result = run_example(
        "summarize_then_verify", cwd=tmp_path, POCKETFLOW_FEEDBACK="auto:deny,approve"
    )
    assert result.returncode == 0, result.stderr
    assert "Feedback: auto:deny,approve (from environment POCKETFLOW_FEEDBACK)" in result.stdout
    assert "Summary (approved after 2 attempts):" in result.stdout


def test_summarize_then_verify_reads_the_given_document(tmp_path: Path) -> None:
    document = tmp_path / "note.txt"
    document.write_text("Cats sleep a lot. They also purr.", encoding="utf-8")
    result = run_example("summarize_then_verify", str(document), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "[offline summary] Cats sleep a lot. They also purr." in result.stdout


def test_a_missing_document_is_a_clear_error(tmp_path: Path) -> None:
    result = run_example("summarize_then_verify", "absent.txt", cwd=tmp_path)
    assert result.returncode == 1
    assert "absent.txt" in result.stderr
    assert "Traceback" not in result.stderr


def test_llm_chosen_in_pocketflow_toml_is_used(tmp_path: Path) -> None:
    (tmp_path / "pocketflow.toml").write_text('llm = "offline:echo"\nfeedback = "auto"\n')
    result = run_example("summarize_then_verify", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "LLM: offline:echo (from file" in result.stdout
    assert "[offline echo] Summarize: PocketFlow models" in result.stdout


def test_summarize_folder_runs_offline(tmp_path: Path) -> None:
    result = run_example("summarize_folder", "--concurrency", "2", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Running offline")
    assert "4 documents, 4 LLM calls" in result.stdout
    for name in ("cancellation.txt", "concurrency.txt", "plugins.txt", "retries.txt"):
        assert name in result.stdout


def test_research_agent_runs_offline(tmp_path: Path) -> None:
    result = run_example("research_agent", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Running offline (offline:summarize)")
    assert "Decision 1: search" in result.stdout
    assert "Decision 3: answer" in result.stdout
    assert "[retries] Retries in PocketFlow Pluggable" in result.stdout  # the tool found it
    assert "8 LLM call(s), 2 search(es)" in result.stdout


def test_ask_docs_runs_offline_with_one_command(tmp_path: Path) -> None:
    result = run_example("ask_docs", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Embedding offline (offline:hash")
    assert lines[1].startswith("Answering offline (offline:summarize")
    assert "Question: How are failed calls retried?" in result.stdout
    assert "[offline summary] Sources: [1] retries.md" in result.stdout
    assert "  [1] retries.md (similarity " in result.stdout
    assert "10 paragraphs of 5 files; 2 embedding call(s)" in result.stdout
