"""JobBook and Anchor: typed-ahead reuse, superseding, forgetting, aborting what nobody waits for."""

from __future__ import annotations

import asyncio

import pytest

from features.completion_jobs import Anchor, Job, JobBook

TEXT = "def add(a, b):\n    return \nprint(add(1, 2))\n"
CURSOR = TEXT.index("return ") + len("return ")


@pytest.mark.parametrize(("text", "offset", "expected"), [
    (TEXT, CURSOR, ""),  # the same place
    (TEXT[:CURSOR] + "a" + TEXT[CURSOR:], CURSOR + 1, "a"),  # typed one character of the suggestion
    (TEXT[:CURSOR] + "a + b" + TEXT[CURSOR:], CURSOR + 5, "a + b"),
    (TEXT, CURSOR - 1, None),  # moved back
    (TEXT.replace("def add", "def sum"), CURSOR, None),  # the text before the cursor changed
    (TEXT[:CURSOR] + TEXT[CURSOR:].replace("print", "show"), CURSOR, None),  # the line below changed
    (TEXT[:CURSOR] + ")" + TEXT[CURSOR:], CURSOR, None),  # the rest of the line changed
])
def test_typed_since(text: str, offset: int, expected: str | None) -> None:
    assert Anchor.at("file:///a.py", TEXT, CURSOR).typed_since("file:///a.py", text, offset) == expected


def test_another_document_is_never_the_same_place() -> None:
    assert Anchor.at("file:///a.py", TEXT, CURSOR).typed_since("file:///b.py", TEXT, CURSOR) is None


async def answer(text: str, delay: float = 0.0) -> str:
    await asyncio.sleep(delay)
    return text


async def test_a_finished_job_serves_what_the_user_types_into_it() -> None:
    book = JobBook()
    job = book.start(Anchor.at("file:///a.py", TEXT, CURSOR), lambda job: answer("a + b"))
    assert await book.wait(job) == "a + b"
    typed = TEXT[:CURSOR] + "a +" + TEXT[CURSOR:]
    assert book.find_reusable("file:///a.py", typed, CURSOR + 3) == (job, "a +")
    other = TEXT[:CURSOR] + "x" + TEXT[CURSOR:]
    assert book.find_reusable("file:///a.py", other, CURSOR + 1) is None  # typed something else
    full = TEXT[:CURSOR] + "a + b" + TEXT[CURSOR:]
    assert book.find_reusable("file:///a.py", full, CURSOR + 5) is None  # nothing left to suggest


async def test_a_new_job_supersedes_an_unwatched_one_of_the_same_document() -> None:
    book = JobBook()
    first = book.start(Anchor.at("file:///a.py", TEXT, CURSOR), lambda job: answer("slow", 5))
    book.start(Anchor.at("file:///a.py", TEXT, 5), lambda job: answer("fast"))
    await asyncio.sleep(0)
    assert first.task.cancelled()
    assert book.model_calls == 2


async def test_a_job_nobody_waits_for_is_aborted_after_the_grace() -> None:
    book = JobBook(grace_s=0.02)
    job = book.start(Anchor.at("file:///a.py", TEXT, CURSOR), lambda job: answer("slow", 5))
    waiter = asyncio.ensure_future(book.wait(job))
    await asyncio.sleep(0)
    waiter.cancel()
    await asyncio.sleep(0.05)
    assert job.task.cancelled()


async def test_forget_drops_and_cancels_the_documents_jobs() -> None:
    book = JobBook()
    mine = book.start(Anchor.at("file:///a.py", TEXT, CURSOR), lambda job: answer("slow", 5))
    theirs = book.start(Anchor.at("file:///b.py", TEXT, CURSOR), lambda job: answer("slow", 5))
    book.forget("file:///a.py")
    await asyncio.sleep(0)
    assert mine.task.cancelled() and not theirs.task.done()
    assert [job.anchor.uri for job in book.jobs] == ["file:///b.py"]
    await book.aclose()


def test_streaming_text_agrees_with_what_was_typed() -> None:
    job = Job(Anchor.at("file:///a.py", TEXT, CURSOR), task=None)  # type: ignore[arg-type]
    job.raw_so_far = "a + "
    assert job.compatible_while_streaming("a")
    assert job.compatible_while_streaming("a + b")  # typed past what has streamed so far
    assert not job.compatible_while_streaming("x")
