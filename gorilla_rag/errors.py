"""Errors a user can cause and fix; the CLI prints them as one line, without a traceback."""

from __future__ import annotations


class GorillaError(Exception):
    """Base of every error whose message tells the user what to do."""


class CorpusError(GorillaError, ValueError):
    """A corpus that cannot be used as is; `problems` lists every bad record as 'file:line: why'."""

    def __init__(self, problems: list[str], what: str = "corpus") -> None:
        self.problems = problems
        shown = "\n  ".join(problems[:20])
        more = f"\n  … and {len(problems) - 20} more" if len(problems) > 20 else ""
        super().__init__(f"{what} has {len(problems)} problem(s):\n  {shown}{more}")


class IndexLoadError(GorillaError, RuntimeError):
    """An index that must not be used as is; the message names the fix."""


class QuestionError(GorillaError, ValueError):
    """A question the pipeline cannot take (empty, too long); the message says why."""


class EmbedderError(GorillaError, RuntimeError):
    """The embedding model cannot be loaded; the message names the fix."""


# What the CLI reports as a one-line error: our own errors, bad values and unreadable files.
USER_ERRORS: tuple[type[BaseException], ...] = (GorillaError, ValueError, OSError)
