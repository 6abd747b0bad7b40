"""``holozero lmeval``: lm-evaluation-harness's command line with ``--model holozero`` registered.

    holozero lmeval --model holozero --model_args pretrained=tiny-zero --tasks holozero_text \
        --include_path lm_eval_tasks --batch_size 64
    python -m holozero.commands.lmeval ...                    # the same, by module

Every argument is lm-eval's own (``holozero lmeval --help`` prints its help). Why a command:
lm-eval 0.4.13 resolves ``--model`` against its own registry before any outside code runs
and reads no plugins, so a bare ``lm_eval --model holozero`` cannot find the model; this
imports holozero/commands/lm_eval_model.py (whose ``@register_model("holozero")`` registers
it) and then runs lm-eval's ``cli_evaluate``. lm-eval releases that read the
``lm_eval.models`` entry points (declared in pyproject.toml) find it from a bare ``lm_eval``.
Needs ``pip install 'holozero[eval]'``.
"""

from __future__ import annotations

import importlib.util
import sys

from .errors import UsageError, user_errors


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else list(argv)
    if importlib.util.find_spec("lm_eval") is None:
        raise UsageError("holozero lmeval", "lm-eval is not installed: pip install 'holozero[eval]'")
    from lm_eval.__main__ import cli_evaluate

    from . import lm_eval_model  # noqa: F401  (registers --model holozero)

    saved, sys.argv = sys.argv, ["lm-eval", *argv]  # lm-eval parses sys.argv itself
    try:
        cli_evaluate()
    finally:
        sys.argv = saved


if __name__ == "__main__":
    with user_errors("holozero lmeval"):
        main()
