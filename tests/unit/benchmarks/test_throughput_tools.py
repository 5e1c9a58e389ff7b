"""The profile folder and the in-process batches of the throughput tools."""

from __future__ import annotations

from benchmarks.throughput_inproc import PARTITIONS, batches
from benchmarks.throughput_profile import fold

RAW = "\n".join(
    [
        "run_consumer (streams/kafka.py:250);_process (streams/consume.py:200);"
        "decode (streams/decode.py:370) 6",
        "run_consumer (streams/kafka.py:250);_process (streams/consume.py:200) 2",
        "run_consumer (streams/kafka.py:250);_admit (streams/consume.py:260);"
        "apply_all (core/aggregator.py:196) 2",
        "_find_and_load (<frozen importlib._bootstrap>:1176);<module> (x.py:1) 5",
        "not a sample line",
    ]
)


def test_fold_counts_own_and_inclusive_time_and_sets_start_up_apart() -> None:
    folded = fold(RAW, top=10)
    assert (folded["samples_counted"], folded["samples_startup"]) == (10, 5)
    own = {row["function"]: row["samples"] for row in folded["own"]}
    assert own == {
        "decode (streams/decode.py)": 6,
        "_process (streams/consume.py)": 2,
        "apply_all (core/aggregator.py)": 2,
    }
    inclusive = {row["function"]: row["share"] for row in folded["inclusive"]}
    assert inclusive["run_consumer (streams/kafka.py)"] == 1.0
    assert inclusive["_process (streams/consume.py)"] == 0.8


def test_batches_hand_every_record_once_in_offset_order_per_partition() -> None:
    work = batches(2_000, seed=3, size=400)
    records = [r for batch in work for r in batch]
    assert len(records) == 2_000
    assert all(len(batch) <= 400 for batch in work)
    for p in range(PARTITIONS):
        offsets = [r.offset for r in records if r.partition == p]
        assert offsets == list(range(len(offsets)))


def test_fold_sets_waiting_threads_apart() -> None:
    waiting = "\n".join(
        [
            "Thread._bootstrap (threading.py:1);_worker (concurrent/futures/thread.py:83) 7",
            "run_once (asyncio/base_events.py:1);select (selectors.py:468) 2",
            "thread (0x7f01) 1",
            "Thread._bootstrap (threading.py:1);_worker (concurrent/futures/thread.py:83);"
            "flush (store/redis.py:9) 1",
        ]
    )
    folded = fold(waiting, top=10)
    assert (folded["samples_counted"], folded["samples_idle"]) == (1, 10)
    assert folded["own"] == [{"function": "flush (store/redis.py)", "samples": 1, "share": 1.0}]
