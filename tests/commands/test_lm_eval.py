"""lm-evaluation-harness with ``--model holozero`` and the shipped ``holozero_text`` task: lm-eval's
bits_per_byte equals ``holozero evaluate``'s bpb when both score the same windows (a split of
one document), and equals the per-document protocol when a split holds several."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

lm_eval = pytest.importorskip("lm_eval")

from lm_eval.api.instance import Instance  # noqa: E402
from lm_eval.api.registry import get_model  # noqa: E402
from lm_eval.tasks import TaskManager  # noqa: E402

from holozero.commands import lmeval, main  # noqa: E402
from holozero.commands.errors import UsageError  # noqa: E402
from holozero.commands.lm_eval_model import HolozeroLM, batch_windows, pick_device  # noqa: E402
from holozero.commands.lm_eval_task import holozero_text, split_documents  # noqa: E402
from holozero.evaluation import evaluate_sequences  # noqa: E402
from holozero.specials import EOS  # noqa: E402
from models import ByteModel  # noqa: E402
from models.hub import hub_config  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
TASKS = REPO / "lm_eval_tasks"
LAYOUT = (16, 8)  # the tiny model's training window: context bytes, stream bytes
WORDS = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho".split()


@pytest.fixture(scope="module")
def export(tmp_path_factory) -> Path:
    """A tiny zero-door model (K=2) with weights away from a fresh build, exported."""
    door = {"class_path": "holozero.doors.ZeroDoor", "init_args": {"K": 2, "dim": 64}}
    body = {"class_path": "models.Decoder", "init_args": {"dim": 64, "n_layers": 1, "n_heads": 2}}
    net = ByteModel.from_config(hub_config(door, body, {"per_byte": False}, LAYOUT))
    g = torch.Generator().manual_seed(7)
    with torch.no_grad():
        for p in net.parameters():
            p.add_(0.3 * torch.randn(p.shape, generator=g))
    folder = tmp_path_factory.mktemp("export") / "tiny"
    net.save_pretrained(folder)
    return folder


def _text(seed: int, n_bytes: int) -> str:
    rng = np.random.default_rng(seed)
    return " ".join(rng.choice(WORDS, n_bytes // 4))[:n_bytes]


def _data_config(root: Path, texts: list[str], **text) -> Path:
    """A text data config over one file per text (``text``: more TextComponent settings)."""
    docs = root / "docs"
    docs.mkdir(parents=True)
    for i, t in enumerate(texts):
        (docs / f"doc{i}.txt").write_text(t, encoding="utf-8")
    settings = {"paths": [str(docs)], "context_bytes": LAYOUT[0], "stream_bytes": LAYOUT[1]} | text
    config = {"data": {"class_path": "datamodules.TextDataModule", "init_args": {"K": 2, "text": settings}}}
    config["data"]["init_args"]["cache_dir"] = str(root / "cache")
    path = root / "data.yaml"
    path.write_text(json.dumps(config))  # JSON is YAML
    return path


def _holozero_evaluate(export: Path, config: Path, out: Path) -> dict:
    main(["evaluate", "--model", str(export), "--config", str(config), "--out", str(out), "--no_progress"])
    return json.loads(out.read_text())["segments"]["text"]


def _lm_eval_bpb(export: Path, metadata: dict) -> float:
    # lm-eval's own tasks left out: indexing its 13,986 task YAMLs took 26.5 of a 30.2 s call (cProfile)
    manager = TaskManager(include_path=str(TASKS), include_defaults=False, metadata=metadata)
    results = lm_eval.simple_evaluate(
        model="holozero", model_args={"pretrained": str(export)}, tasks=["holozero_text"], task_manager=manager
    )
    return results["results"]["holozero_text"]["bits_per_byte,none"]


def test_the_model_is_in_lm_evals_registry():
    assert get_model("holozero") is HolozeroLM


def test_pyproject_declares_the_extra_and_the_entry_point():
    tomllib = pytest.importorskip("tomllib")  # the standard library from Python 3.11
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    assert any(d.startswith("lm-eval") for d in extras["eval"]) and any(d.startswith("lm-eval") for d in extras["dev"])
    target = project["entry-points"]["lm_eval.models"]["holozero"]
    module, _, name = target.partition(":")
    assert getattr(sys.modules[module], name) is get_model("holozero")


def test_rolling_scores_the_utf8_bytes_as_the_evaluation_protocol_does(export):
    lm = HolozeroLM(pretrained=str(export), batch_size=4, device="cpu")
    docs = ["Hello, world. " * 5, "한국어 문장과 English, mixed: ü ß ✓"]
    rolling = lm.loglikelihood_rolling([Instance("loglikelihood_rolling", {}, (d,), i) for i, d in enumerate(docs)])
    for doc, ll in zip(docs, rolling, strict=True):
        data = np.frombuffer(doc.encode("utf-8"), dtype=np.uint8)
        bpb = evaluate_sequences(lm.net, [data], "text", *LAYOUT)["bpb"]
        assert -ll / len(data) / math.log(2) == pytest.approx(bpb, rel=1e-6)
    pairs = lm.loglikelihood([Instance("loglikelihood", {}, ("", d), i) for i, d in enumerate(docs)])
    assert [ll for ll, _ in pairs] == pytest.approx(rolling, rel=1e-6)  # an empty context is a document's start
    (ll, greedy), *_ = lm.loglikelihood([Instance("loglikelihood", {}, ("Hello", ", world"), 0)])
    assert ll < 0 and isinstance(greedy, bool)
    assert lm.get_model_info() | {"model_source": None} == {
        "model_source": None,
        "door": "ZeroDoor",
        "K": 2,
        "per_byte": False,
        "context": 16,
        "stride": 8,
    }


def test_model_args_are_checked_by_name(export):
    with pytest.raises(ValueError, match=r"unknown model_args \['temperature'\]"):
        HolozeroLM(pretrained=str(export), temperature=1.0)
    with pytest.raises(ValueError, match="pretrained=... is required"):
        HolozeroLM()
    with pytest.raises(ValueError, match="model_args stride must be a positive integer, got 0"):
        HolozeroLM(pretrained=str(export), stride=0)
    with pytest.raises(ValueError, match="batch_size must be a positive integer or 'auto', got 'big'"):
        batch_windows("big", None)
    assert [batch_windows(b, m) for b, m in ((1, None), ("8", None), ("auto", None), ("auto:4", 16))] == [1, 8, 64, 16]
    lm = HolozeroLM(pretrained=str(export), context=32, stride=4, device="cpu")
    assert (lm.context, lm.stride) == (32, 4)
    with pytest.raises(NotImplementedError, match="holozero generate"):
        lm.generate_until([Instance("generate_until", {}, ("Hi", {}), 0)])


def test_the_command_names_the_extra_when_lm_eval_is_missing(monkeypatch):
    find_spec = lmeval.importlib.util.find_spec
    monkeypatch.setattr(lmeval.importlib.util, "find_spec", lambda name: None if name == "lm_eval" else find_spec(name))
    with pytest.raises(UsageError, match=r"lm-eval is not installed: pip install 'holozero\[eval\]'"):
        lmeval.main(["--model", "holozero"])


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the fallback where there is no CUDA")
def test_a_cuda_device_without_cuda_is_the_cpu():
    assert pick_device("cuda:0") == pick_device(None) == torch.device("cpu")


def test_task_documents_come_from_local_files_and_must_be_text(tmp_path):
    assert split_documents(np.array([104, 105, EOS, EOS, 33, EOS, 120])) == [b"hi", b"!", b"x"]
    folder = tmp_path / "files"
    folder.mkdir()
    (folder / "a.txt").write_text("first\r\ndocument", encoding="utf-8")  # bytes kept as they are
    (folder / "b.txt").write_text("두 번째", encoding="utf-8")
    data = holozero_text(text_path=str(folder), pretrained="ignored", version=1.0)["test"]
    assert data["text"] == ["first\r\ndocument", "두 번째"]
    (folder / "c.bin").write_bytes(b"ok \xff no")
    with pytest.raises(ValueError, match=r"c\.bin is not UTF-8 at byte 3"):
        holozero_text(text_path=str(folder))
    with pytest.raises(ValueError, match=r"unknown metadata \['text_pth'\]"):
        holozero_text(text_pth=str(folder))
    with pytest.raises(ValueError, match="not both"):
        holozero_text(text_path=str(folder), text_config="run/config.yaml")
    with pytest.raises(ValueError, match="is not a file"):
        holozero_text(text_config=str(tmp_path / "missing.yaml"))


@pytest.mark.slow
def test_bits_per_byte_equals_holozero_evaluate_on_the_same_windows(export, tmp_path):
    """One file, split contiguously: the test split is one document, which both score in the
    same windows ([EOS] + the split, the model's layout), so the figures agree."""
    config = _data_config(tmp_path, [_text(0, 4000)], split="contiguous")
    ours = _holozero_evaluate(export, config, tmp_path / "evaluate.json")
    docs = holozero_text(text_config=str(config))["test"]["text"]
    assert len(docs) == 1 and len(docs[0].encode("utf-8")) == ours["bytes_in_split"] == 199  # 5% of 4,001 ids, less EOS
    assert abs(_lm_eval_bpb(export, {"text_config": str(config)}) - ours["bpb"]) < 1e-4


@pytest.mark.slow
def test_several_documents_are_scored_apart_unlike_holozero_evaluate(export, tmp_path):
    """lm-eval scores each document on its own, from its start; ``holozero evaluate`` slides over
    the split's one stream, across document boundaries. Same bytes, two protocols."""
    config = _data_config(tmp_path, [_text(i, 300 + 37 * i) for i in range(8)], val_fraction=0.25, test_fraction=0.25)
    ours = _holozero_evaluate(export, config, tmp_path / "evaluate.json")
    docs = holozero_text(text_config=str(config))["test"]["text"]
    assert len(docs) == 2 and sum(len(d.encode("utf-8")) for d in docs) == ours["bytes_in_split"]
    net = ByteModel.from_pretrained(export)
    arrays = [np.frombuffer(d.encode("utf-8"), dtype=np.uint8) for d in docs]
    apart = evaluate_sequences(net, arrays, "text", *LAYOUT)["bpb"]
    theirs = _lm_eval_bpb(export, {"text_config": str(config)})
    assert abs(theirs - apart) < 1e-4
    assert abs(theirs - ours["bpb"]) > 1e-3  # the protocols differ, as the README says


@pytest.mark.slow
def test_the_command_runs_lm_evals_command_line(export, tmp_path):
    """``holozero lmeval`` / ``python -m holozero.commands.lmeval``: lm-eval's own flags, the
    model registered, a user's text file as the documents, results where lm-eval writes them."""
    text = tmp_path / "doc.txt"
    text.write_text(_text(3, 500), encoding="utf-8")
    argv = ["--model", "holozero", "--model_args", f"pretrained={export}", "--tasks", "holozero_text"]
    argv += ["--include_path", str(TASKS), "--metadata", f"text_path={text}", "--batch_size", "16"]
    lmeval.main([*argv, "--output_path", str(tmp_path / "out")])
    [results] = (tmp_path / "out").rglob("results_*.json")
    got = json.loads(results.read_text())["results"]["holozero_text"]["bits_per_byte,none"]
    data = np.frombuffer(text.read_bytes(), dtype=np.uint8)
    expected = evaluate_sequences(ByteModel.from_pretrained(export), [data], "text", *LAYOUT)["bpb"]
    assert got == pytest.approx(expected, abs=1e-4)
