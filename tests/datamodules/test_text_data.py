import os

import numpy as np
import pytest
import torch

from datamodules.byte_store import build_store, resolve_paths
from datamodules.errors import BadItemError
from datamodules.sources import StreamSource
from datamodules.splits import SPLITS, assign, contiguous_bounds
from datamodules.windows import FixedWindows, ResumableLoader, SeededBatches
from holozero.specials import EOS


@pytest.fixture
def docs(tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    texts = ["hello world", "안녕하세요 세계", "def f(x):\n    return x\n", "zzz" * 50, "the end"]
    for i, t in enumerate(texts):
        (folder / f"{i}.txt").write_bytes(t.encode("utf-8"))
    (folder / ".hidden").write_text("never read")
    return folder, [t.encode("utf-8") for t in texts]


def test_paths_files_folders_globs_and_errors(docs, tmp_path):
    folder, _ = docs
    assert len(resolve_paths([folder])) == 5  # hidden file skipped
    assert len(resolve_paths([str(folder / "*.txt")])) == 5
    assert resolve_paths([folder / "0.txt", folder / "0.txt"]) == [(folder / "0.txt").resolve()]
    with pytest.raises(FileNotFoundError, match="does not exist"):
        resolve_paths([tmp_path / "missing.txt"])
    with pytest.raises(FileNotFoundError, match="matches no file"):
        resolve_paths([str(tmp_path / "*.nothing")])


def test_store_keeps_every_byte_once_with_eos_between_documents(docs, tmp_path):
    folder, texts = docs
    store = build_store([folder], val_fraction=0.2, test_fraction=0.2, split_seed=0, cache_root=tmp_path / "c")
    assert store.meta["split"] == "documents"
    got = []
    for name in SPLITS:
        s = np.asarray(store.stream(name))
        ends = np.where(s == EOS)[0]
        assert ends[-1] == len(s) - 1  # every document, the last included, ends with EOS
        got += [bytes(doc.astype(np.uint8)) for doc in np.split(s[:-1], ends[:-1]) for doc in [doc[doc != EOS]]]
        assert store.meta[name]["documents"] >= 1
    assert sorted(got) == sorted(texts)
    assert sum(store.meta[n]["bytes"] for n in SPLITS) == sum(len(t) for t in texts)


def test_a_single_file_is_cut_into_contiguous_ranges(tmp_path):
    """The enwik8 convention: 90 / 5 / 5 of the one file's ids, boundaries recorded, every id once."""
    data = np.random.default_rng(0).integers(0, 256, 10_001).astype(np.uint8)
    (tmp_path / "one.bin").write_bytes(data.tobytes())
    store = build_store([tmp_path / "one.bin"], cache_root=tmp_path / "c")
    assert store.meta["split"] == "contiguous"
    ids = np.concatenate([np.asarray(store.stream(n)) for n in SPLITS])
    assert np.array_equal(ids[:-1], data) and ids[-1] == EOS
    train_end, val_end = contiguous_bounds(10_002, 0.05, 0.05)
    assert store.meta["bounds"] == {"train": [0, train_end], "val": [train_end, val_end], "test": [val_end, 10_002]}
    assert (train_end, val_end) == (9002, 9502)
    assert [len(store.stream(n)) for n in SPLITS] == [9002, 500, 500]


def test_split_by_document_fixed_by_seed():
    a = assign(100, 0.1, 0.05, 7)
    assert list(a) == list(assign(100, 0.1, 0.05, 7))
    assert list(a) != list(assign(100, 0.1, 0.05, 8))
    assert (a == "val").sum() == 10 and (a == "test").sum() == 5 and (a == "train").sum() == 85
    with pytest.raises(ValueError, match="needs ≥ 3"):
        assign(2, 0.1, 0.1, 0)


def test_two_documents_ask_for_a_contiguous_split(tmp_path):
    for i in range(2):
        (tmp_path / f"{i}.txt").write_text("x" * 100)
    with pytest.raises(ValueError, match="use split: contiguous"):
        build_store([tmp_path], cache_root=tmp_path / "c")
    store = build_store([tmp_path], cache_root=tmp_path / "c", split="contiguous")
    assert sum(len(store.stream(n)) for n in SPLITS) == 202


def test_empty_or_unreadable_documents_are_bad_items(docs, tmp_path):
    folder, _ = docs
    (folder / "empty.txt").write_bytes(b"")
    with pytest.raises(BadItemError, match="empty.txt: empty file"):
        build_store([folder], cache_root=tmp_path / "c")
    skipped = []
    store = build_store([folder], cache_root=tmp_path / "c", on_bad=skipped.append)
    assert [e.path.endswith("empty.txt") for e in skipped] == [True]
    assert sum(store.meta[n]["documents"] for n in SPLITS) == 5


def test_cache_is_reused_and_rebuilt_when_a_file_changes(docs, tmp_path):
    folder, _ = docs
    first = build_store([folder], cache_root=tmp_path / "c", val_fraction=0.2, test_fraction=0.2)
    assert build_store([folder], cache_root=tmp_path / "c", val_fraction=0.2, test_fraction=0.2).root == first.root
    f = folder / "0.txt"
    f.write_text("changed")
    os.utime(f, ns=(f.stat().st_mtime_ns + 10**9,) * 2)
    assert build_store([folder], cache_root=tmp_path / "c", val_fraction=0.2, test_fraction=0.2).root != first.root


def _stream(n=5000):
    return np.random.default_rng(0).integers(0, 256, n).astype(np.uint16)


def _batches(data, batch_size=4, seed=3, rank=0, world_size=1, context=32, stream=16):
    source = StreamSource(data, context, stream)
    return SeededBatches({"text": source}, {"text": 1.0}, batch_size, seed, rank, world_size)


def test_train_batches_do_not_depend_on_workers_and_resume_exactly():
    data = _stream()
    direct = [_batches(data).batch(g)["ids"] for g in range(6)]
    for workers in (0, 2):
        loader = ResumableLoader(_batches(data), num_workers=workers)
        got = [b["ids"] for _, b in zip(range(6), loader, strict=False)]
        assert all(torch.equal(a, b) for a, b in zip(direct, got, strict=True))
    loader = ResumableLoader(_batches(data))
    for _, _ in zip(range(4), loader, strict=False):
        pass
    state = loader.state_dict()
    resumed = ResumableLoader(_batches(data))
    resumed.load_state_dict(state)
    assert torch.equal(next(iter(resumed))["ids"], direct[4])
    # the windows are real slices of the stream, at seeded uniform starts
    starts = np.random.default_rng([3, 0]).integers(0, len(data) - 48 + 1, 4)
    assert direct[0].shape == (4, 48)
    for row, s in zip(direct[0], starts, strict=True):
        assert torch.equal(row, torch.from_numpy(data[s : s + 48].astype(np.int64)))


def test_ranks_never_share_a_batch():
    data = _stream()
    single = _batches(data, 2, 1)
    it0, it1 = iter(_batches(data, 2, 1, rank=0, world_size=2)), iter(_batches(data, 2, 1, rank=1, world_size=2))
    for g in range(3):
        assert torch.equal(next(it0)["ids"], single.batch(2 * g)["ids"])
        assert torch.equal(next(it1)["ids"], single.batch(2 * g + 1)["ids"])


def test_validation_windows_are_a_fixed_byte_budget():
    source = StreamSource(_stream(), 32, 16)
    assert FixedWindows(source, budget_bytes=1000, batch_size=5).count == 63  # ceil(1000 / 16)
    a = torch.cat([b["ids"] for b in FixedWindows(source, 1000, batch_size=5)])
    b = torch.cat([b["ids"] for b in FixedWindows(source, 1000, batch_size=64)])
    assert torch.equal(a, b) and a.shape[0] == 63
    # two ranks: every window exactly once between them, no padding duplicates
    ranks = [torch.cat([x["ids"] for x in FixedWindows(source, 1000, 8, rank=r, world_size=2)]) for r in (0, 1)]
    assert ranks[0].shape[0] + ranks[1].shape[0] == 63
    merged = torch.empty_like(a)
    merged[0::2], merged[1::2] = ranks
    assert torch.equal(merged, a)
    with pytest.raises(ValueError, match="fewer than one window"):
        StreamSource(_stream(10), 32, 16)


def test_context_must_fill_whole_slots():
    from datamodules import TextDataModule
    from datamodules.components import TextComponent

    with pytest.raises(ValueError, match="not a multiple of K=8"):
        TextDataModule(K=8, text=TextComponent(context_bytes=100))


def test_text_module_names_an_empty_file_or_counts_it_under_skip(docs, tmp_path):
    from datamodules import TextDataModule
    from datamodules.components import TextComponent

    folder, _ = docs
    (folder / "empty.txt").write_bytes(b"")

    def module(policy):
        text = TextComponent(paths=[str(folder)], context_bytes=4, stream_bytes=4, val_fraction=0.2, test_fraction=0.2)
        dm = TextDataModule(text=text, K=2, on_bad_item=policy, cache_dir=str(tmp_path / "c"))
        dm.setup()
        return dm

    with pytest.raises(BadItemError, match="empty.txt: empty file"):
        module("error")
    dm = module("skip")
    assert dm.skipped_items == 1 and dm.summary["skipped items"] == 1
    assert sum(dm.summary["text"][s]["items"] for s in SPLITS) == 5


def test_a_split_shorter_than_a_window_names_the_split_its_bytes_and_files(tmp_path):
    from datamodules import TextDataModule
    from datamodules.components import TextComponent

    for i, n in enumerate((400, 300, 5, 200)):
        (tmp_path / f"{i}.txt").write_bytes(b"x" * n)
    text = TextComponent(paths=[str(tmp_path)], context_bytes=8, stream_bytes=8, val_fraction=0.25, test_fraction=0.25)
    dm = TextDataModule(text=text, K=8, cache_dir=str(tmp_path / "c"))
    with pytest.raises(
        ValueError, match=r"the text (val|test) split has 5 bytes .* fewer than one window of 16 .*2\.txt"
    ):
        dm.setup()


def test_binary_looking_documents_train_as_they_are_and_are_named_once_and_counted(docs, tmp_path, caplog):
    """An ELF executable named .txt and a file with NUL bytes among text files: kept (any bytes
    are a feature), each named in one line with why, and counted in the dataset summary."""
    import logging

    from datamodules import TextDataModule
    from datamodules.components import TextComponent

    folder, texts = docs
    elf = b"\x7fELF\x02\x01\x01" + bytes(range(1, 60))  # an ELF header, no NUL after it
    (folder / "tool.txt").write_bytes(elf)
    (folder / "utf16.txt").write_bytes("hi there".encode("utf-16-le"))  # 8 NUL bytes in 16

    def module():
        text = TextComponent(paths=[str(folder)], context_bytes=4, stream_bytes=4, val_fraction=0.2, test_fraction=0.2)
        dm = TextDataModule(text=text, K=2, cache_dir=str(tmp_path / "c"))
        caplog.clear()
        with caplog.at_level(logging.INFO):
            dm.setup()
        return dm, [line for r in caplog.records for line in r.getMessage().splitlines() if "looks binary" in line]

    for _ in ("built", "read back from the cache"):
        dm, lines = module()
        assert sorted(lines) == [
            f"holozero: warning: text: {(folder / 'tool.txt').resolve()} looks binary (an ELF executable); "
            "its bytes train as they are",
            f"holozero: warning: text: {(folder / 'utf16.txt').resolve()} looks binary (8 NUL bytes in 16); "
            "its bytes train as they are",
        ]
        assert sum(dm.summary["text"][s]["binary files"] for s in SPLITS) == 2
        assert sum(dm.summary["text"][s]["bytes"] for s in SPLITS) == sum(map(len, texts)) + len(elf) + 16


def test_what_looks_binary():
    from datamodules.binary_files import looks_binary

    assert looks_binary("안녕하세요, world\n\tdef f(): ...".encode()) is None
    assert looks_binary(b"\x89PNG\r\n\x1a\n....") == "a PNG image"
    assert looks_binary(b"%PDF-1.7\n") == "a PDF document" and looks_binary(b"\x1f\x8b\x08") == "gzip data"
    assert looks_binary(b"PK\x03\x04rest") == "a zip archive"
    assert looks_binary(b"text\x00and more\x00") == "2 NUL bytes in 14"
