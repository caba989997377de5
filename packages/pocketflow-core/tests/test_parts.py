"""Message parts: images from a path, URL or bytes; messages made of parts."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from pocketflow import Message, complete_async
from pocketflow.offline import Script
from pocketflow.parts import ImagePart, TextPart, ToolCall


def test_an_image_from_a_path_is_read_with_its_type(tmp_path: Path) -> None:
    path = tmp_path / "cat.png"
    path.write_bytes(b"\x89PNG\r\n")
    image = ImagePart.from_path(path)
    assert (image.data, image.media_type) == (b"\x89PNG\r\n", "image/png")
    assert image.data_url == "data:image/png;base64,iVBORw0K"
    assert repr(image) == "ImagePart(image/png, 6 bytes)"


def test_bad_images_are_clear_errors(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(ValueError, match=r"notes\.txt: an image must be PNG, JPEG, GIF or WebP"):
        ImagePart.from_path(tmp_path / "notes.txt")
    with pytest.raises(ValueError, match=r"missing\.png: cannot read the image"):
        ImagePart.from_path(tmp_path / "missing.png")
    with pytest.raises(ValueError, match="must start with https:// or http://"):
        ImagePart.from_url("file:///etc/passwd")
    with pytest.raises(ValueError, match="media_type must be one of"):
        ImagePart.from_bytes(b"x", "image/tiff")


def test_a_message_of_parts_keeps_them_and_has_their_text() -> None:
    message = Message("assistant", (TextPart("Let me "), TextPart("look."), ToolCall("c", "f")))
    assert isinstance(message.content, tuple) and len(message.content) == 3
    assert message.text == "Let me look."
    assert Message("user", "plain").parts == (TextPart("plain"),)


def test_parts_reach_the_provider_and_the_prompt_is_their_text(llm_script: object) -> None:
    script: Script = llm_script(["seen"])  # type: ignore[operator]
    image = ImagePart.from_url("https://example.com/cat.png")
    content = [TextPart("What is"), TextPart(" this?"), image]
    asyncio.run(complete_async([{"role": "user", "content": content}]))
    sent = script.requests[0]
    assert sent.prompt == "What is this?"
    assert sent.messages[0].content == (TextPart("What is"), TextPart(" this?"), image)


def test_a_content_that_is_neither_text_nor_parts_is_refused(llm_script: object) -> None:
    llm_script(["never"])  # type: ignore[operator]
    with pytest.raises(ValueError, match="content must be a string or a list of parts, not int"):
        asyncio.run(complete_async([{"role": "user", "content": 5}]))
