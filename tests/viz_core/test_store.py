"""The results store: round trip, keys, one-byte invalidation, interrupted passes, LRU eviction."""
from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

from viz_core.demo_models import DigitsCNN
from viz_core.store import Store, default_root, entry_key, weights_digest


def rows(start: int, n: int) -> dict[str, np.ndarray]:
    index = np.arange(start, start + n, dtype=np.int64)
    return {"index": index, "score": index.astype(np.float32) / 10, "top": np.stack([index, index + 1], axis=1).astype(np.int32)}


def write(store: Store, key: str, parts: tuple[int, ...] = (0, 4), n: int = 4) -> bool:
    with store.writer(key, "test") as writer:
        for start in reversed(parts):  # written out of order, read back in part order
            writer.write(start, rows(start, n))
        return writer.commit({"note": "hello"})


def test_round_trip(tmp_path: Path) -> None:
    store = Store(tmp_path)
    assert store.get("k1") is None
    assert write(store, "k1")
    stored = store.get("k1")
    assert stored is not None and stored.kind == "test" and stored.meta == {"note": "hello"}
    expected = {name: np.concatenate([rows(0, 4)[name], rows(4, 4)[name]]) for name in rows(0, 1)}
    for name, values in expected.items():
        np.testing.assert_array_equal(stored.columns[name], values)
        assert stored.columns[name].dtype == values.dtype
    assert stored.columns["top"].shape == (8, 2)
    [info] = store.entries()
    assert info.key == "k1" and info.rows == 8 and info.bytes == store.size() > 0
    assert not any((tmp_path / "staging").iterdir())


def test_keys_separate_weights_collections_and_settings() -> None:
    base = {"weights": "w", "collection": "c", "settings": {"top_k": 5, "targets": np.arange(3)}}
    key = entry_key("predictions", **base)
    assert key == entry_key("predictions", **{**base, "settings": {"targets": np.arange(3), "top_k": 5}})
    others = [
        entry_key("features", **base),
        entry_key("predictions", **{**base, "weights": "w2"}),
        entry_key("predictions", **{**base, "collection": "c2"}),
        entry_key("predictions", **{**base, "settings": {"top_k": 5, "targets": np.array([0, 1, 3])}}),
    ]
    assert len({key, *others}) == 5


def test_weights_digest_changes_with_one_byte_of_the_checkpoint(tmp_path: Path) -> None:
    with torch.random.fork_rng():
        torch.manual_seed(0)
        model = DigitsCNN()
    path = tmp_path / "digits.safetensors"
    save_file(model.state_dict(), str(path))

    def loaded() -> DigitsCNN:
        fresh = DigitsCNN()
        fresh.load_state_dict(load_file(str(path)))
        return fresh

    first = loaded()
    assert weights_digest(first) == weights_digest(model) == weights_digest(loaded())
    before = model.state_dict()["fc.bias"].clone()
    data = bytearray(path.read_bytes())
    data[-1] ^= 0x01  # the last byte of the last tensor: one float changes in its lowest bits
    path.write_bytes(bytes(data))
    changed = loaded()
    assert weights_digest(changed) != weights_digest(model)
    assert torch.equal(model.state_dict()["fc.bias"], before)  # hashing changed nothing


def test_an_interrupted_pass_leaves_nothing_readable(tmp_path: Path) -> None:
    store = Store(tmp_path, stale_seconds=0)
    with pytest.raises(KeyboardInterrupt):  # a Stop (or any exception) in the middle of the pass
        with store.writer("k", "test") as writer:
            writer.write(0, rows(0, 4))
            raise KeyboardInterrupt
    assert store.get("k") is None and store.entries() == []
    assert not any((tmp_path / "staging").iterdir())
    crashed = store.writer("k", "test")  # a process that died: shards written, no manifest, no cleanup
    crashed.write(0, rows(0, 4))
    assert store.get("k") is None and store.entries() == [] and any((tmp_path / "staging").iterdir())
    store.evict()
    assert not any((tmp_path / "staging").iterdir())  # stale staging folders are removed


def test_a_truncated_shard_is_not_read_as_complete(tmp_path: Path) -> None:
    store = Store(tmp_path)
    write(store, "k")
    shard = next((tmp_path / "entries" / "k").glob("part-*.parquet"))
    shard.write_bytes(shard.read_bytes()[:-10])
    assert store.get("k") is None
    assert not (tmp_path / "entries" / "k").exists()


def test_clear_during_a_pass_publishes_nothing(tmp_path: Path) -> None:
    store = Store(tmp_path)
    write(store, "old")
    with store.writer("k", "test") as writer:
        writer.write(0, rows(0, 4))
        store.clear()
        writer.write(4, rows(4, 4))
        assert not writer.commit()
    assert store.entries() == [] and store.get("k") is None


def test_least_recently_used_entries_are_evicted(tmp_path: Path) -> None:
    store = Store(tmp_path, max_bytes=10**9)
    for number, key in enumerate(("a", "b", "c")):
        write(store, key)
        stamp = 1_000_000 + number
        os.utime(tmp_path / "entries" / key / "manifest.json", (stamp, stamp))
    assert store.get("a") is not None  # "a" is now the most recently used
    assert [e.key for e in store.entries()] == ["b", "c", "a"]
    assert store.evict(max_bytes=store.size() - 1) == ["b"]  # one byte over: only the least recently used goes
    store.max_bytes = min(e.bytes for e in store.entries())
    write(store, "d")  # each commit evicts down to the limit, keeping the new entry
    assert [e.key for e in store.entries()] == ["d"]
    store.clear()
    assert store.entries() == [] and store.size() == 0


def test_two_writers_of_one_key(tmp_path: Path) -> None:
    store = Store(tmp_path)
    results: list[bool] = []
    threads = [threading.Thread(target=lambda: results.append(write(store, "same"))) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [True, True] and [e.key for e in store.entries()] == ["same"]
    assert not any((tmp_path / "staging").iterdir())


def test_location(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CONVLENS_CACHE_DIR", str(tmp_path / "cache"))
    assert default_root() == tmp_path / "cache"
    assert Store().root == tmp_path / "cache" and (tmp_path / "cache" / "entries").is_dir()
    monkeypatch.delenv("CONVLENS_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    if os.name == "posix" and os.uname().sysname == "Linux":
        assert default_root() == tmp_path / "xdg" / "convlens"
    monkeypatch.setenv("CONVLENS_CACHE_MAX_MB", "1.5")
    assert Store(tmp_path / "s").max_bytes == int(1.5 * 2**20)
