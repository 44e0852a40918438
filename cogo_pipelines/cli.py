"""The ``cogo`` command. Each area registers its sub-commands from ``cogo_pipelines.commands``;
this module only assembles them and turns bad arguments and store errors into one clear line
on stderr with exit status 2 (never a usage box or a traceback, which CI would read as a failed
gate: exit 1)."""

from __future__ import annotations

import gc
import logging
import os
import re
import sys
from typing import TYPE_CHECKING

from cogo_pipelines import collector, warm_search

if TYPE_CHECKING:
    import typer

AREAS = ("knowledge", "graph", "queue", "quality", "server", "mcp")  # modules of cogo_pipelines.commands
# The area of each top-level command: `cogo search` imports only commands/knowledge.py, not the
# graph, queue, quality and server areas (their imports cost ~0.4 s of every call). A command
# missing here (or --help) loads every area, so a new command works before it is listed.
COMMAND_AREAS = {
    "index": "knowledge", "search": "knowledge", "graph": "graph", "jobs": "queue", "runner": "queue",
    "gate": "quality", "snapshot": "quality", "notify": "quality", "serve": "server", "vault": "server",
    "mcp": "mcp",
}  # fmt: skip


def build_app(areas: tuple[str, ...] = AREAS) -> typer.Typer:
    """The ``cogo`` Typer app with the commands of ``areas`` registered (their modules imported
    with the collector paused: ``collector``)."""
    import importlib

    with collector.paused():
        import typer

        app = typer.Typer(
            name="cogo",
            help="cogo pipelines: code-knowledge index, job queue, Q1 gate, sidecar.",
            no_args_is_help=True,
            add_completion=False,
            pretty_exceptions_enable=False,
        )

        @app.callback()
        def _root() -> None:
            """Keeps ``cogo`` a command group even while an area registers a single command."""

        for area in areas:
            importlib.import_module(f"cogo_pipelines.commands.{area}").register(app)
    return app


def _areas_for(argv: list[str]) -> tuple[str, ...]:
    command = next((a for a in argv if not a.startswith("-")), None)
    return (COMMAND_AREAS[command],) if command in COMMAND_AREAS else AREAS


def __getattr__(name: str) -> typer.Typer:
    """``cogo_pipelines.cli.app``: the app with every command (for tests and docs tools)."""
    if name == "app":
        globals()["app"] = build_app()
        return globals()["app"]
    raise AttributeError(name)


# Control characters (a newline too) and the surrogates that stand for undecodable bytes: shown
# escaped, so an error stays one line and cannot drive the terminal.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def _one_line(text: str) -> str:
    return _UNPRINTABLE.sub(lambda m: m.group().encode("unicode_escape", "backslashreplace").decode("ascii"), text)


def _error(message: str, code: int = 2) -> None:
    print(f"cogo: error: {_one_line(message)}", file=sys.stderr)
    sys.exit(code)


def main() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "WARNING"), format="%(levelname)s %(name)s: %(message)s")
    for arg in sys.argv[1:]:  # bytes that are not UTF-8 reach Python as lone surrogates
        if any("\ud800" <= ch <= "\udfff" for ch in arg):
            _error(f"argument {os.fsencode(arg)!r} is not valid UTF-8 text")
    if sys.argv[1:2] == ["search"] and not warm_search.serving:
        try:
            code = warm_search.forward(sys.argv[1:])
        except KeyboardInterrupt:  # as click reports it in-process
            _error("aborted", 130)
        if code is not None:
            sys.exit(code)
        warm_search.start_later()  # searched here this time; a warm process for the next ones
    with collector.paused():  # imported here, not at the top: the collector paused (``collector``)
        import psycopg
        import pydantic
        import typer

        from cogo_pipelines.store.db import StoreError
    try:
        code = build_app(_areas_for(sys.argv[1:]))(standalone_mode=False)
    except typer.TyperException as exc:  # typer's click errors: a bad option or value, named
        if type(exc).__name__ == "NoArgsIsHelpError":  # the help is printed already (typer's own test)
            sys.exit(exc.exit_code)
        ctx = getattr(exc, "ctx", None)
        hint = f" (see '{ctx.command_path} --help')" if ctx is not None and exc.exit_code == 2 else ""
        _error(exc.format_message().replace(": Value error, ", ": ") + hint, exc.exit_code)
    except typer.Abort:
        _error("aborted", 130)
    except StoreError as exc:
        _error(str(exc))
    except psycopg.OperationalError as exc:  # the store went away mid-command (a crash, a restart)
        reason = (str(exc).strip().splitlines() or ["no reason given"])[0]
        _error(f"lost the connection to the store: {reason}; what the command had committed is kept, "
               "run it again once the store is back")
    except pydantic.ValidationError as exc:  # a setting from the environment or .env
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]).upper() or exc.title
        _error(f"setting {where} is invalid: {first['msg']}")  # the value is not echoed: it may be a secret
    # the process ends here: the interpreter's last collection would walk every object still
    # alive (~0.06 s after a cold `cogo graph` of effect); frozen, they are freed without it
    gc.freeze()
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
