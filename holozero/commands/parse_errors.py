"""jsonargparse's parse errors as one line naming the flag or the config file.

A wrong nested flag (``--data.init_args.text.context_byte``) comes back from jsonargparse as
a 15-line tree of Union alternatives ("Expected a <class 'NoneType'>", "Given value: ...");
the user needs the flag or file, what is wrong, and the closest real option.
"""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path

import yaml

from .errors import closest, suggest

NOISE = (
    "Does not validate against any of the Union subtypes",
    "Subtypes:",
    "Errors:",
    "Given value type:",
    "Given value:",
    "Expected a <class 'NoneType'>",
)
PARSER_KEY = re.compile(r'Parser key "([^"]+)":\s*(.*)')
CLASS_PATH = re.compile(r"Problem with given class_path '([^']+)':\s*(.*)")
NOT_ACCEPTED = re.compile(r"Option '([^']+)' is not accepted")
GROUP_OPTION = re.compile(r"Group '([^']+)' does not accept option '([^']+)'")


def config_files(argv: list[str]) -> list[Path]:
    """The ``--config`` / ``-c`` files of a command line, in order."""
    files = []
    for i, arg in enumerate(argv):
        if arg in ("--config", "-c") and i + 1 < len(argv):
            files.append(Path(argv[i + 1]))
        elif arg.startswith("--config="):
            files.append(Path(arg.split("=", 1)[1]))
    return files


def _flat_keys(value, prefix: str = "") -> set[str]:
    if not isinstance(value, dict):
        return {prefix}
    keys = {prefix} if prefix else set()
    for k, v in value.items():
        keys |= _flat_keys(v, f"{prefix}.{k}" if prefix else str(k))
    return keys


def file_with_key(argv: list[str], key_end: str) -> Path | None:
    """The last config file of the command line that sets a key ending in ``key_end``."""
    found = None
    for path in config_files(argv):
        try:
            keys = _flat_keys(yaml.safe_load(path.read_text()))
        except (OSError, yaml.YAMLError):
            continue
        if any(k == key_end or k.endswith("." + key_end) for k in keys):
            found = path
    return found


def parameters_of(class_path: str) -> list[str]:
    """The constructor parameters of a class and of its bases (``**kwargs`` passes them on)."""
    module, _, name = class_path.rpartition(".")
    try:
        cls = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError, ValueError):
        return []
    names = []
    for klass in inspect.getmro(cls) if inspect.isclass(cls) else [cls]:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        for p in inspect.signature(init).parameters.values():
            if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD) and p.name not in names:
                names.append(p.name)
    return names


def yaml_problem(argv: list[str]) -> str | None:
    for path in config_files(argv):
        try:
            yaml.safe_load(path.read_text())
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            where = f", line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
            return f"config {path}{where}: not valid YAML: {getattr(e, 'problem', None) or e}"
        except OSError:
            continue
    return None


def explain(message: str, argv: list[str], known_flags) -> str:
    """One line for a jsonargparse parse error of the command line ``argv``."""
    if message.startswith("Problems parsing config"):
        return yaml_problem(argv) or " ".join(message.split())
    keys, classes, leaves = [], [], []
    for raw in message.splitlines():
        line = raw.strip().lstrip("-").strip()
        if not line or line.startswith(NOISE):
            continue
        if m := PARSER_KEY.match(line):
            keys.append(m[1])
            line = m[2]
        elif m := CLASS_PATH.match(line):
            classes.append(m[1])
            line = m[2]
        if line:
            leaves.append(line)
    leaf = "; ".join(leaves) or " ".join(message.split())

    if m := GROUP_OPTION.search(leaf):  # an unknown key in a config file's section
        group, option = m[1], m[2]
        hint = suggest(f"--{group}.{option}", [f for f in known_flags if f.startswith(f"--{group}.")])
        where = file_with_key(argv, f"{group}.{option}")
        return f"{f'config {where}: ' if where else ''}'{group}' has no option '{option}'{hint}"
    if (m := NOT_ACCEPTED.search(leaf)) and classes:  # an unknown init arg of a class
        option, owner = m[1], classes[-1]
        best = closest(option, parameters_of(owner))
        typed = [a.split("=", 1)[0] for a in argv if a.startswith("--") and a.split("=", 1)[0].endswith("." + option)]
        if typed:
            flag = typed[-1]
            better = f" (did you mean {flag[: -len(option)]}{best}?)" if best else ""
            return f"unrecognized argument {flag}: {owner.rsplit('.', 1)[-1]} has no option '{option}'{better}"
        where = file_with_key(argv, option)
        better = f" (did you mean '{best}'?)" if best else ""
        return f"{f'config {where}: ' if where else ''}{owner.rsplit('.', 1)[-1]} has no option '{option}'{better}"
    key = ".".join(keys)
    return f"{key}: {leaf}" if key else leaf
