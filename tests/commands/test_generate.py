"""Generation: the training layout (no prompt byte lost), cached steps equal full recomputes."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers import run_cli, tiny_fit_args, write_docs

from datamodules.controls import markov2_chain
from holozero.commands.generate import Generator, layout, load_model, sample
from holozero.commands.generate import main as generate_main
from holozero.doors import DOORS
from holozero.features import FEAT_DIM, invert_value_features
from models import ByteModel, Decoder


def _net(K=8, per_byte=False, dim=256):
    torch.manual_seed(0)
    return ByteModel(DOORS["zero"](K=K, dim=dim), Decoder(dim=dim, n_layers=2, n_heads=4), per_byte=per_byte).eval()


def test_every_prompt_byte_enters_the_model_once():
    gen = Generator(_net(K=8), context_bytes=512, stream_bytes=256)
    rng = np.random.default_rng(0)
    for length in range(1, 301):
        prompt = rng.integers(0, 256, length).tolist()
        prefix, stream, slots = gen.window_inputs(prompt)
        assert slots == length // 8 and stream.shape[1] == length % 8  # full slots, then the remainder
        slot_bytes = invert_value_features(prefix[0, :, : 8 * FEAT_DIM].reshape(-1, FEAT_DIM))
        stream_bytes = invert_value_features(stream[0, :, :FEAT_DIM])
        assert torch.cat([slot_bytes, stream_bytes]).tolist() == prompt, length


def test_layout_stays_within_the_training_window():
    K, C, S = 8, 64, 32
    for length in range(1, 400):
        start, slots = layout(length, K, C, S, per_byte=False)
        stream = length - start - slots * K
        assert 0 <= stream <= S and slots <= C // K and start % K == 0
        assert start == 0 or (slots == C // K and stream > S - K)  # slides only when full, by whole slots
    assert layout(100, K, C, S, per_byte=True) == (8, 0)  # 100 - 96 = 4 bytes over: one slot of K


@pytest.mark.parametrize("per_byte,K", [(False, 8), (False, 4), (True, 1)])
def test_cached_logits_equal_a_full_recompute_at_every_step(per_byte, K):
    net = _net(K=K, per_byte=per_byte)
    gen = Generator(net, context_bytes=48, stream_bytes=24)  # small, so folds and slides happen
    runs = {}
    for cached in (True, False):
        logits = []
        out = gen.generate(
            b"The quick brown fox ",
            max_bytes=120,
            temperature=0,
            stop_at_eos=False,
            use_cache=cached,
            on_logits=logits.append,
        )
        runs[cached] = (out, torch.stack(logits))
    assert runs[True][0] == runs[False][0] and len(runs[True][0]) > 0
    assert (runs[True][1] - runs[False][1]).abs().max() <= 1e-5


def test_sampling_controls():
    logits = torch.full((258,), -10.0)
    logits[[65, 66, 67]] = torch.tensor([3.0, 2.0, 1.0])
    logits[256] = 100.0  # SEP is never sampled
    g = torch.Generator().manual_seed(0)
    assert sample(logits, 0.0, 0, 1.0, g) == 65
    assert {sample(logits, 1.0, 1, 1.0, g) for _ in range(20)} == {65}  # top-k 1
    assert {sample(logits, 1.0, 0, 0.5, g) for _ in range(50)} == {65}  # A alone holds > 0.5 of the mass
    assert {sample(logits, 5.0, 2, 1.0, g) for _ in range(200)} == {65, 66}


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("gen")
    chain = markov2_chain(alphabet=16, alpha=0.5, seed=3)
    paths = write_docs(tmp / "data", [chain.sample(4000, np.random.default_rng(i)) for i in range(6)])
    run_cli(["fit", *tiny_fit_args(paths, tmp, 4, val_bytes=64), "--data.init_args.cache_dir", str(tmp / "cache")])
    return next((tmp / "lightning_logs").iterdir()) / "checkpoints" / "last.ckpt"


@pytest.mark.slow
def test_generate_command_from_a_checkpoint_alone(checkpoint, tmp_path, capsys):
    net, context, stream = load_model(checkpoint)
    assert (net.door.K, context, stream) == (2, 16, 16)
    out = tmp_path / "out.bin"
    generate_main(
        [
            "--ckpt_path",
            str(checkpoint),
            "--prompt",
            "안녕 hello",
            "--max_bytes",
            "40",
            "--no_stop_at_eos",
            "--seed",
            "3",
            "--output",
            str(out),
        ]
    )
    first = out.read_bytes()
    assert len(first) == 40
    generate_main(
        [
            "--ckpt_path",
            str(checkpoint),
            "--prompt",
            "안녕 hello",
            "--max_bytes",
            "40",
            "--no_stop_at_eos",
            "--seed",
            "3",
            "--no_cache",
            "--output",
            str(out),
        ]
    )
    assert out.read_bytes() == first  # same seed, same bytes, with or without the cache
    run_cli(["generate", "--ckpt_path", str(checkpoint), "--prompt", "abc", "--max_bytes", "5", "--temperature", "0"])
    assert capsys.readouterr().out.endswith("\n")


@pytest.mark.parametrize("per_byte,K", [(False, 8), (True, 1)])
def test_a_sampled_eos_that_does_not_stop_enters_the_window_once(per_byte, K):
    """--no_stop_at_eos: the sampled EOS becomes the next input (a document boundary, as in
    training), never a byte of the output, and the cache stays equal to a full recompute."""
    from holozero.specials import EOS

    gen = Generator(_net(K=K, per_byte=per_byte), context_bytes=48, stream_bytes=24)
    runs = {}
    for cached in (True, False):
        seen = []

        def force(logits, seen=seen):
            seen.append(logits.clone())
            if len(seen) in (5, 9, 40):  # EOS forced at these steps, mid-window and after a fold
                logits[EOS] = 1e9

        out = gen.generate(
            b"The quick brown fox ", 60, temperature=0, stop_at_eos=False, use_cache=cached, on_logits=force
        )
        runs[cached] = (out, torch.stack(seen))
    assert runs[True][0] == runs[False][0] and len(runs[True][0]) == 60 - 3  # EOS is not a byte
    assert (runs[True][1] - runs[False][1]).abs().max() <= 1e-5
