import hashlib
import subprocess
import sys

import pytest
import torch
from hsl_embedding import ablation

from holozero.doors import ABLATIONS, DOORS, PRESETS, build_door
from holozero.features import FEAT_DIM, GROUPS, hsl_features, value_table
from holozero.specials import NUM_IDS

EXPECTED = {
    "zero",
    "hsl_proj",
    "byte_embed",
    "hash_ngram",
    "hash_ngram_matched",
    "raw_bits",
    "onehot",
    "random",
    "permuted",
    "learned_value",
    "binary_codes",
    "binary_codes_affine",
    "zero_groups",
    "zero_no_dxor",
    "zero_no_d2xor",
    "zero_no_boundary",
    "zero_no_fourier",
    "zero_no_phase",
    "zero_value_only",
    "zero_context_only",
}
FIXED_ZERO_PARAM = [
    "zero",
    "raw_bits",
    "onehot",
    "random",
    "permuted",
    "binary_codes",
    "binary_codes_affine",
    "zero_no_dxor",
    "zero_no_d2xor",
    "zero_no_boundary",
    "zero_no_fourier",
    "zero_no_phase",
    "zero_value_only",
    "zero_context_only",
    "zero_groups",
]


def make(name, K=4, dim=512, **kw):
    return build_door(name, K=1 if name == "onehot" else K, dim=dim, **kw)


def test_registry_has_every_arm():
    assert set(PRESETS) == EXPECTED
    matched, embed = (build_door(n, K=8, dim=448).learned_parameters for n in ("hash_ngram_matched", "byte_embed"))
    assert matched - embed == 258 * (448 + 56)  # its hash tables: 258 rows, byte_embed's 259
    for name, cls in DOORS.items():
        assert cls.name == name and PRESETS[name].cls is cls
    for name, groups in ABLATIONS.items():  # ablations are presets of one class, not classes
        door = build_door(name, K=2, dim=64)
        assert type(door) is DOORS["zero_groups"] and list(door.groups) == groups


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_shapes_of_both_paths(name, gen):
    door = make(name)
    ids = torch.randint(0, 256, (3, 23), generator=gen)
    K = door.K
    assert door(ids).shape == (3, -(-23 // K), 512)
    assert door.stream(ids).shape == (3, 23, 512)
    slots, stream = door.split_window(ids, 13)
    assert slots.shape == (3, -(-13 // K), 512) and stream.shape == (3, 10, 512)
    assert door(ids[:, :0]).shape == (3, 0, 512)


@pytest.mark.parametrize("name", FIXED_ZERO_PARAM)
def test_fixed_doors_have_no_trainable_parameters(name, gen):
    """No parameter at all (a table registered as one, even frozen, would be optimizer state and
    counted), everything saved is a buffer, and both paths' outputs carry no autograd graph.
    (``state_dict()`` tensors are detached: their ``requires_grad`` is always False, so it
    cannot tell a parameter from a buffer.)"""
    door = make(name)
    assert door.learned_parameters == 0 and list(door.parameters()) == []
    assert set(door.state_dict()) <= {n for n, _ in door.named_buffers()}
    ids = torch.randint(0, 256, (2, 12), generator=gen)
    assert not door(ids).requires_grad and not door.stream(ids).requires_grad


def test_learned_parameter_counts():
    assert make("learned_value", K=8).learned_parameters == 4608
    dim, K = 512, 8
    assert make("hsl_proj", K=K).learned_parameters == K * FEAT_DIM * dim + dim + FEAT_DIM * dim + dim
    assert make("byte_embed", K=K).learned_parameters == NUM_IDS * dim + NUM_IDS * (dim // K)
    hashed = make("hash_ngram", K=K, buckets=100)
    assert hashed.learned_parameters == (NUM_IDS + 3 * 100) * (dim + dim // K)


def test_a_stream_only_door_holds_and_counts_only_its_stream_path(gen):
    """The per-byte model drops the slot path: what is left is the stream's own tables."""
    dim, K = 512, 8
    stream_only = {
        "hsl_proj": FEAT_DIM * dim + dim,
        "byte_embed": NUM_IDS * dim,
        "hash_ngram": (NUM_IDS + 3 * 100) * dim,
        "learned_value": 4608,  # one value table serves both paths
        "zero": 0,
    }
    ids = torch.randint(0, 256, (2, 16), generator=gen)
    for name, count in stream_only.items():
        door = make(name, K=K, **({"buckets": 100} if name == "hash_ngram" else {}))
        before = door.stream(ids)
        door.drop_slot_path()
        assert door.learned_parameters == count, name
        torch.testing.assert_close(door.stream(ids), before)  # the stream path is untouched
        with pytest.raises(RuntimeError, match="no slot path"):
            door(ids)
        assert door(ids[:, :0]).shape == (2, 0, 512)  # an empty prefix (generate's per-byte window)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_door_keeps_byte_order_inside_a_slot(name, gen):
    """Permuting the bytes of a slot changes the slot vector, for every arm (a mean or a sum of
    per-byte vectors plus per-position offsets would not: the offsets sum to a constant)."""
    K = 4
    door = build_door(name, K=K, dim=1100 if name == "onehot" else 512)
    for _ in range(5):
        slot = torch.randperm(256, generator=gen)[:K]
        perm = torch.randperm(K, generator=gen)
        while torch.equal(perm, torch.arange(K)):
            perm = torch.randperm(K, generator=gen)
        context = torch.randint(0, 256, (K,), generator=gen)  # one whole slot of context before it
        a = door(torch.cat([context, slot])[None])[0, 1]
        b = door(torch.cat([context, slot[perm]])[None])[0, 1]
        assert not torch.allclose(a, b), (name, slot.tolist(), perm.tolist())


def test_byte_embed_slot_is_the_concatenation_of_its_bytes():
    door = make("byte_embed", K=4, dim=64)
    ids = torch.tensor([[3, 1, 4, 1]])
    expected = torch.cat([door.slot_embed.weight[i] for i in (3, 1, 4, 1)])
    torch.testing.assert_close(door(ids)[0, 0], expected)
    torch.testing.assert_close(door.stream(ids)[0], door.stream_embed.weight[[3, 1, 4, 1]])
    odd = make("byte_embed", K=3, dim=64)  # 64 = 3·21 + 1: one zero column at the end
    out = odd(torch.tensor([[5, 6, 7]]))[0, 0]
    torch.testing.assert_close(out[:63], torch.cat([odd.slot_embed.weight[i] for i in (5, 6, 7)]))
    assert out[63] == 0


def test_hash_ngram_buckets_are_causal_and_exact_ngrams():
    from holozero.doors.learned import ngram_buckets

    ids = torch.tensor([[7, 8, 9, 7, 8, 9, 1]])
    b3 = ngram_buckets(ids, 3, 1 << 20)
    assert b3[0, 4] != b3[0, 1]  # (START, 7, 8) at position 1 is not (9, 7, 8) at position 4
    assert b3[0, 5] == b3[0, 2]  # the same trigram (7, 8, 9) gives the same bucket
    assert b3[0, 5] != b3[0, 6]
    longer = torch.tensor([[0, 0, 7, 8, 9, 7, 8, 9, 1]])  # more past does not change later buckets...
    assert torch.equal(ngram_buckets(longer, 3, 1 << 20)[0, 4:], b3[0, 2:])
    changed = ids.clone()
    changed[0, 6] = 2  # ... and a later byte never changes an earlier bucket (causal)
    assert torch.equal(ngram_buckets(changed, 3, 1 << 20)[0, :6], b3[0, :6])
    door = make("hash_ngram", K=2, dim=64, buckets=50)
    feats = door.features(ids)
    assert feats.shape == (1, 7, 4) and feats[..., 1:].max() < 50
    expected = door.stream_embed.weight[9] + sum(door.stream_hash[i].weight[feats[0, 2, 1 + i]] for i in range(3))
    torch.testing.assert_close(door.stream(ids)[0, 2], expected)


SEEDED = ["random", "permuted", "binary_codes_affine", "learned_value"]


def _table(door) -> torch.Tensor:
    return (door.value_rows() if hasattr(door, "value_rows") else door.table).detach()


@pytest.mark.parametrize("name", SEEDED)
def test_seeded_tables_follow_the_run_seed_unless_pinned(name):
    """An interval over --seed_everything covers the table drawn: the table comes from the
    run's seed (torch.initial_seed()), unless table_seed pins it; the seed is kept in the state."""
    torch.manual_seed(1)
    one, one_again = make(name), make(name)
    torch.manual_seed(2)
    two = make(name)
    assert torch.equal(_table(one), _table(one_again)) and int(one.table_seed) == 1
    assert not torch.equal(_table(one), _table(two)) and int(two.table_seed) == 2
    pinned = make(name, table_seed=7)
    torch.manual_seed(1)
    assert torch.equal(_table(pinned), _table(make(name, table_seed=7))) and int(pinned.table_seed) == 7
    # the checkpoint carries the table: a door built under another seed takes it on load
    other = make(name)
    other.load_state_dict(one.state_dict())
    assert torch.equal(_table(other), _table(one)) and int(other.table_seed) == 1


@pytest.mark.parametrize("name", ["hsl_proj", "byte_embed", "hash_ngram"])
def test_learned_door_init_follows_the_run_seed(name):
    torch.manual_seed(1)
    a = make(name).state_dict()
    torch.manual_seed(2)
    b = make(name).state_dict()
    assert any(not torch.equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("K", [1, 4, 8, 18])
def test_zero_door_is_features_then_zeros(K, gen):
    door = make("zero", K=K)
    ids = torch.randint(0, 256, (2, 5 * K), generator=gen)
    slots = door(ids)
    assert torch.equal(slots[..., : K * FEAT_DIM], hsl_features(ids).reshape(2, 5, K * FEAT_DIM))
    assert torch.count_nonzero(slots[..., K * FEAT_DIM :]) == 0
    stream = door.stream(ids)
    assert torch.equal(stream[..., :FEAT_DIM], hsl_features(ids))
    assert torch.count_nonzero(stream[..., FEAT_DIM:]) == 0


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_specials_distinct_at_the_input(name, gen):
    """Every one of the 259 ids, after any context, gives a stream vector no other id gives."""
    door = make(name)
    context = torch.randint(0, 256, (NUM_IDS, 6), generator=gen)
    ids = torch.cat([context, torch.arange(NUM_IDS)[:, None]], dim=1)
    last = door.stream(ids)[:, -1]
    specials = last[256:]
    assert torch.unique(specials, dim=0).shape[0] == 3
    assert not (specials[:, None] == last[None, :256]).all(-1).any()
    if name != "zero_context_only":  # the one ablation that removes byte identity on purpose
        assert torch.unique(last, dim=0).shape[0] == NUM_IDS


@pytest.mark.parametrize("name,feat", [("zero", 27), ("raw_bits", 10), ("binary_codes", 9), ("onehot", 259)])
def test_width_bound_names_the_largest_K(name, feat):
    best = 512 // feat
    build_door(name, K=best, dim=512)
    with pytest.raises(ValueError, match=f"largest valid K is {best}"):
        build_door(name, K=best + 1, dim=512)


def test_learned_doors_have_no_width_bound():
    assert DOORS["hsl_proj"](K=19, dim=512)(torch.zeros(1, 19, dtype=torch.long)).shape == (1, 1, 512)


def test_split_window_featurizes_once(gen):
    door = make("zero", K=4)
    ids = torch.randint(0, 256, (2, 40), generator=gen)
    slots, stream = door.split_window(ids, 24)
    assert torch.equal(slots, door(ids[:, :24]))
    assert torch.equal(stream, door.stream(ids)[:, 24:])
    # featurizing the stream alone would change its first byte's context channels
    assert not torch.equal(stream, door.stream(ids[:, 24:]))


def test_value_controls_keep_hsl_context(gen):
    ids = torch.randint(0, 256, (2, 50), generator=gen)
    ctx = list(GROUPS["context"])
    for name in ("random", "permuted", "learned_value"):
        feats = make(name).features(ids)
        assert torch.equal(feats[..., ctx], hsl_features(ids)[..., ctx]), name


def test_permuted_has_hsl_marginals_and_other_geometry():
    door = make("permuted", table_seed=3)
    table = door.table[:256]
    hsl = value_table()[:256]
    assert torch.equal(table.sort(0).values, hsl.sort(0).values)
    assert not torch.equal(table, hsl)
    assert torch.equal(table, hsl[door.permutation])


def test_random_matches_hsl_moments_and_is_injective():
    table = make("random", table_seed=5).table[:256].double()
    hsl = value_table()[:256].double()
    torch.testing.assert_close(table.mean(0), hsl.mean(0), atol=1e-5, rtol=0)
    torch.testing.assert_close(table.std(0, correction=0), hsl.std(0, correction=0), atol=1e-5, rtol=1e-5)
    assert torch.unique(table, dim=0).shape[0] == 256
    # same recipe as the reference ablation kit: the same moments
    ref = torch.from_numpy(ablation.ControlEmbedding("random", seed=5)._value_lut.numpy()).double()
    torch.testing.assert_close(table.std(0), ref.std(0), atol=1e-4, rtol=1e-4)


def test_binary_codes_are_minimal_and_affine_variant_is_a_bijection():
    plain = make("binary_codes")
    assert plain.feat_dim == 9
    assert torch.unique(plain.table, dim=0).shape[0] == NUM_IDS
    affine = make("binary_codes_affine", table_seed=7)
    assert torch.unique(affine.table, dim=0).shape[0] == NUM_IDS
    assert not torch.equal(affine.table, plain.table)
    stream = plain.stream(torch.tensor([[5]]))[0, 0]
    assert torch.equal(stream, plain.table[5].repeat(57)[:512])  # tiled, not zero-padded


def test_ablation_drops_only_its_group(gen):
    ids = torch.randint(0, 256, (2, 30), generator=gen)
    door = make("zero_no_fourier")
    kept = [c for c in range(27) if c not in GROUPS["fourier"]]
    feats = door.features(ids)
    assert torch.equal(feats[..., : len(kept)], hsl_features(ids)[..., kept])
    assert door.feat_dim == len(kept) + 2  # without Fourier, PAD would equal 0x00: flags appended
    assert make("zero_groups", groups=["dxor", "phase"]).feat_dim == 12  # specials all have dxor 0, phase 0
    assert make("zero_no_boundary").feat_dim == 26  # phase + Fourier still tell specials apart


def test_learned_value_gets_gradients():
    door = make("learned_value")
    door(torch.tensor([[1, 2, 3, 4]])).sum().backward()
    assert door.value.grad is not None and door.value.grad[[1, 2, 3, 4]].abs().sum() > 0
    assert door.value.grad[0].abs().sum() == 0


SEED_SCRIPT = """
import hashlib, torch
from holozero.doors import build_door
out = []
for name in ("random", "permuted", "binary_codes_affine", "learned_value"):
    d = build_door(name, K=4, dim=512, table_seed=11)
    t = d.value_rows() if name == "learned_value" else d.table
    out.append(hashlib.sha256(t.detach().numpy().tobytes()).hexdigest())
print(",".join(out))
"""


@pytest.mark.slow
def test_seeded_doors_reproduce_across_processes():
    runs = [
        subprocess.run([sys.executable, "-c", SEED_SCRIPT], capture_output=True, text=True, check=True).stdout
        for _ in range(2)
    ]
    assert runs[0] == runs[1]
    here = []
    for name in ("random", "permuted", "binary_codes_affine"):
        here.append(hashlib.sha256(build_door(name, K=4, dim=512, table_seed=12).table.numpy().tobytes()).hexdigest())
    assert ",".join(here) not in runs[0]  # another seed, other tables


def test_every_door_config_is_its_registry_preset():
    """configs/doors/<name>.yaml names the same class and arguments as PRESETS[name], so a
    sweep that builds a door by registry name and a user who stacks the file get one arm."""
    import pathlib

    import yaml

    folder = pathlib.Path(__file__).resolve().parents[2] / "configs" / "doors"
    files = {p.stem: yaml.safe_load(p.read_text())["model"]["door"] for p in folder.glob("*.yaml")}
    assert set(files) == set(PRESETS)
    for name, door in files.items():
        preset = PRESETS[name].config()
        assert door["class_path"] == preset["class_path"], name
        args = door.get("init_args", {})
        for key, value in preset.get("init_args", {}).items():
            assert args.get(key) == value, (name, key)
