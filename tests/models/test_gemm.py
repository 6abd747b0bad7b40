"""The body's Linear layers on oneDNN: the same numbers as F.linear to float32 rounding, the
same parameters and checkpoints, and a clear error where the library is missing."""

import pytest
import torch
import torch.nn.functional as F

import models.gemm as gemm
from models import Decoder
from models.gemm import Linear, OneDnnLinearFn

needs_onednn = pytest.mark.skipif(not gemm.onednn_available(), reason="torch build without oneDNN")


@needs_onednn
def test_linear_forward_and_both_gradients_match_f_linear():
    torch.manual_seed(0)
    layer = Linear(96, 160, gemm="onednn")
    x = torch.randn(3, 37, 96, requires_grad=True)  # 3-D input, a row count no kernel tiles evenly
    y = layer(x)
    assert type(y.grad_fn).__name__ == "OneDnnLinearFnBackward"  # the oneDNN path, not a fallback
    grad_out = torch.randn_like(y)
    y.backward(grad_out)

    x64, w64 = x.detach().double().requires_grad_(), layer.weight.detach().double().requires_grad_()
    ref = F.linear(x64, w64)  # float64 reference: both float32 libraries are compared to it
    ref.backward(grad_out.double())
    torch.testing.assert_close(y.double(), ref, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(x.grad.double(), x64.grad, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(layer.weight.grad.double(), w64.grad, rtol=1e-5, atol=1e-5)


@needs_onednn
def test_input_gradient_only_when_the_weight_is_frozen():
    torch.manual_seed(1)
    w, x = torch.randn(8, 4), torch.randn(5, 4, requires_grad=True)
    OneDnnLinearFn.apply(x, w).sum().backward()
    torch.testing.assert_close(x.grad, torch.ones(5, 8) @ w)


@needs_onednn
def test_decoder_on_onednn_has_the_same_parameters_and_agrees_with_aten():
    torch.manual_seed(0)
    aten = Decoder(dim=64, n_layers=2, n_heads=4, gemm="aten")
    torch.manual_seed(0)
    dnn = Decoder(dim=64, n_layers=2, n_heads=4, gemm="onednn")
    # the same initialisation from the same seed, the same state dict (checkpoints are shared)
    assert aten.state_dict().keys() == dnn.state_dict().keys()
    for (name, a), b in zip(aten.state_dict().items(), dnn.state_dict().values(), strict=True):
        assert torch.equal(a, b), name
    prefix, stream = torch.randn(2, 4, 64), torch.randn(2, 12, 64)
    targets = torch.randint(0, 258, (2, 12))
    losses = []
    for body in (aten, dnn):
        for p in body.parameters():
            p.grad = None
        loss = F.cross_entropy(body(prefix, stream).reshape(-1, 258), targets.reshape(-1))
        loss.backward()
        losses.append(loss)
    torch.testing.assert_close(losses[0], losses[1], rtol=1e-5, atol=1e-6)
    for (name, a), b in zip(aten.named_parameters(), dnn.parameters(), strict=True):
        torch.testing.assert_close(a.grad, b.grad, rtol=1e-4, atol=1e-6, msg=name)


def test_falls_back_to_f_linear_off_float32():
    torch.manual_seed(0)
    layer = Linear(6, 3, gemm="onednn" if gemm.onednn_available() else "aten").double()
    x = torch.randn(4, 6, dtype=torch.float64)
    assert torch.equal(layer(x), F.linear(x, layer.weight))


def test_unknown_library_and_missing_onednn_are_clear_errors(monkeypatch):
    with pytest.raises(ValueError, match="gemm='mkl': expected one of aten, onednn"):
        Decoder(dim=64, n_layers=1, n_heads=4, gemm="mkl")
    monkeypatch.setattr(gemm, "onednn_available", lambda: False)
    with pytest.raises(ValueError, match="no oneDNN.*use gemm: aten"):
        Decoder(dim=64, n_layers=1, n_heads=4, gemm="onednn")


@pytest.mark.slow  # an Inductor compile of forward and backward: ~8 s
@needs_onednn
def test_onednn_linear_compiles_for_training():
    # Inductor's own lowering of the oneDNN linear op fails in training; the registered op must
    # reach the compiled forward and backward as one kernel and give the eager numbers.
    torch.manual_seed(0)
    layer = Linear(16, 24, gemm="onednn")
    x = torch.randn(5, 16, requires_grad=True)
    eager = layer(x)
    eager.square().sum().backward()
    grads = x.grad.clone(), layer.weight.grad.clone()
    x.grad = layer.weight.grad = None
    from torch._inductor.utils import run_and_get_code

    def step():
        out = torch.compile(layer)(x)
        out.square().sum().backward()
        return out

    compiled, code = run_and_get_code(step)
    # the forward and both backward products run the registered oneDNN op, not a fallback
    assert sum(c.count("holozero.onednn_mm") for c in code) >= 3, code
    torch.testing.assert_close(compiled, eager)
    torch.testing.assert_close(x.grad, grads[0])
    torch.testing.assert_close(layer.weight.grad, grads[1])


def test_the_cli_names_the_gemm_key_and_its_choices():
    from pathlib import Path

    from holozero.commands import main
    from holozero.commands.errors import UsageError

    config = Path(__file__).resolve().parents[2] / "configs" / "quickstart.yaml"
    with pytest.raises(UsageError, match=r"model\.body\.gemm: .*'aten', 'onednn'.*mkl"):
        main(["fit", "--config", str(config), "--model.body.init_args.gemm", "mkl", "--print_config"])
