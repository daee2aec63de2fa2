"""IPython magics: `%gorilla <task>` and `%%gorilla` show the Answer card and put its code in the next cell.

`%load_ext gorilla_rag` only registers them: the pipeline (index and embedder) loads when the first one runs.
"""

from __future__ import annotations

from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class

from gorilla_rag.errors import GorillaError
from gorilla_rag.types import Answer

USAGE = "usage: %gorilla [--source HUB] [-k N] <what the code should do>   (or %%gorilla [options] + the task below)"


def parse_options(line: str) -> tuple[str, dict[str, Any]]:
    """`--source HUB` and `-k N` (also `--source=HUB`, `-k=N`) anywhere in the line, and the task in words;
    `--help` shows the usage, and any other option is refused rather than read as part of the task."""
    words, task, options = line.split(), [], {}
    while words:
        word = words.pop(0)
        name, _, value = word.partition("=")
        if name in ("--help", "-h"):
            raise UsageError(USAGE)
        if name in ("--source", "-k"):
            if not value:
                if not words:
                    raise UsageError(f"{name} needs a value\n{USAGE}")
                value = words.pop(0)
            if name == "-k" and not (value.isdigit() and int(value) >= 1):
                raise UsageError(f"-k takes a whole number of at least 1, not {value!r}\n{USAGE}")
            options[name.lstrip("-")] = int(value) if name == "-k" else value
        elif word.startswith("-") and len(word) > 1 and not word[1:2].isdigit():
            raise UsageError(f"unknown option {word!r}\n{USAGE}")
        else:
            task.append(word)
    return " ".join(task), options


def ask(shell: Any, task: str, options: dict[str, Any]) -> Answer:
    """Answer with the default pipeline; a verified or repaired call's code becomes the next cell."""
    from gorilla_rag.pipeline import default_pipeline

    if not task.strip():
        raise UsageError(USAGE)
    try:
        answer = default_pipeline().ask(task, **options)
    except (GorillaError, ValueError) as exc:
        raise UsageError(str(exc)) from exc
    if answer.status in ("verified", "repaired") and answer.code:
        shell.set_next_input(answer.code, replace=False)
    return answer


@magics_class
class GorillaMagics(Magics):
    @line_cell_magic
    def gorilla(self, line: str, cell: str | None = None) -> Answer:
        """Find a verified API call for a task: `%gorilla [--source HUB] [-k N] task` or `%%gorilla` + task."""
        task, options = parse_options(line)
        if cell is not None:
            task = f"{task}\n{cell}".strip()
        return ask(self.shell, task, options)


def load_ipython_extension(ipython: Any) -> None:
    ipython.register_magics(GorillaMagics)
