"""User errors (config, flags, data, checkpoints) as one message, not a traceback.

From the command line, an error the user can fix prints ``holozero fit: error: <message>``
and exits 1 (2 for a wrong flag, with a pointer to ``--help``); ``HOLOZERO_DEBUG=1`` shows
the traceback instead. Anything else (a bug) keeps its traceback.

Lightning and jsonargparse wrap our errors (a data module's ValueError arrives inside 2–3
"Does not validate against any of the Union subtypes" errors), so the message shown is the
outermost error raised by holozero's own code in the chain, which is the one that names
the file, the line or the argument.
"""

from __future__ import annotations

import argparse
import difflib
import os
import sys
import traceback
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

OUR_PACKAGES = ("holozero", "datamodules", "models", "callbacks")
# Lightning's MisconfigurationException and YAML's errors, named so neither has to be imported
USER_ERROR_NAMES = {"MisconfigurationException", "YAMLError"}


class UsageError(Exception):
    """A wrong command line: unknown flag or command, bad value. ``prog`` is the command."""

    def __init__(self, prog: str, message: str):
        self.prog = prog
        super().__init__(message)


def debugging() -> bool:
    return os.environ.get("HOLOZERO_DEBUG", "") not in ("", "0")


def closest(given: str, known: Iterable[str]) -> str | None:
    close = difflib.get_close_matches(given, list(known), n=1, cutoff=0.6)
    return close[0] if close else None


def suggest(given: str, known: Iterable[str]) -> str:
    """' (did you mean --x?)' for the closest known option, or ''."""
    close = closest(given, known)
    return f" (did you mean {close}?)" if close else ""


def is_user_error(exc: BaseException) -> bool:
    if isinstance(exc, (ValueError, OSError, FloatingPointError, argparse.ArgumentError, UsageError)):
        return True
    return any(cls.__name__ in USER_ERROR_NAMES for cls in type(exc).__mro__)


def chain(exc: BaseException) -> list[BaseException]:
    """The exception and every one it was raised from or during, outermost first."""
    seen: list[BaseException] = []
    while exc is not None and exc not in seen:
        seen.append(exc)
        exc = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
    return seen


def _our_roots() -> list[Path]:
    roots = []
    for name in OUR_PACKAGES:
        module = sys.modules.get(name)
        if module is not None and getattr(module, "__file__", None):
            roots.append(Path(module.__file__).resolve().parent)
    return roots


def raised_by_us(exc: BaseException, roots: list[Path]) -> bool:
    frames = traceback.extract_tb(exc.__traceback__) if exc.__traceback__ else []
    if not frames:
        return False
    where = Path(frames[-1].filename).resolve()
    return any(where.is_relative_to(root) for root in roots)


def user_error(exc: BaseException) -> BaseException | None:
    """The error to show for ``exc``, or None when it is not a user error (a bug). A library
    error raised *from* one of ours (``raise ... from``) counts as ours; one raised while
    handling ours (a bug in the handler) does not."""
    if isinstance(exc, UsageError):
        return exc
    roots = _our_roots()
    links = [e for e in chain(exc) if is_user_error(e)]
    ours = [e for e in links if raised_by_us(e, roots)]
    if is_user_error(exc):
        return ours[0] if ours else links[-1]
    causes = []
    while exc.__cause__ is not None and exc.__cause__ not in causes:
        exc = exc.__cause__
        causes.append(exc)
    return next((e for e in causes if e in ours), None)


def describe(exc: BaseException) -> str:
    if isinstance(exc, argparse.ArgumentError) and exc.argument_name is None:
        return exc.message
    text = str(exc).strip()
    if isinstance(exc, OSError) and exc.filename is not None and str(exc.filename) not in text:
        text = f"{exc.filename}: {text}"
    return text or type(exc).__name__


@contextmanager
def user_errors(prog: str) -> Iterator[None]:
    """Around a whole command run from the command line: user errors become one message."""
    try:
        yield
    except Exception as exc:
        shown = None if debugging() else user_error(exc)
        if shown is None:
            raise
        prog = getattr(shown, "prog", prog)
        print(f"{prog}: error: {describe(shown)}", file=sys.stderr)
        if isinstance(shown, (UsageError, argparse.ArgumentError)):
            print(f"See '{prog} --help'.", file=sys.stderr)
            raise SystemExit(2) from None
        print("(HOLOZERO_DEBUG=1 shows the traceback)", file=sys.stderr)
        raise SystemExit(1) from None
