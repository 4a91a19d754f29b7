"""Unit tests of the invariant checks: each holds on a consistent state and fails on a
deliberately corrupted one. Standard library only:

    python3 -m unittest discover -s loadtest -p 'test_*.py'
"""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from rh_load.checks import (  # noqa: E402
    SHIFT,
    Part,
    Stats,
    check_counters,
    check_leaderboard,
    check_no_overlap,
    check_rating_chains,
    check_side_effects_once,
    score,
)
from rh_load.delivery import Sub, check_delivery, effective_end, outage_windows, publications  # noqa: E402


def part(match_id, user_id, status="completed", created=0, completed=10, result="win",
         before=1500, after=1520, mode="1v1"):
    done = status == "completed"
    return Part(match_id, user_id, mode, status, created, completed if done else None, result if done else None,
                before if done else None, after if done else None, float(before) if done else None,
                float(after) if done else None, 7.0 if done else None, 7.0 if done else None)


def stats(user_id, mmr=1520, games=1, wins=1, losses=0, draws=0, mode="1v1", sigma=7.0):
    return Stats(user_id, mode, mmr, float(mmr), sigma, wins, losses, draws, games)


class NoOverlap(unittest.TestCase):
    def test_back_to_back_matches_hold(self):
        parts = [part(1, 7, created=0, completed=10), part(2, 7, created=10, completed=20),
                 part(3, 7, status="pending", created=25)]
        self.assertEqual(check_no_overlap(parts), [])

    def test_a_match_created_before_the_previous_one_completed_fails(self):
        parts = [part(1, 7, created=0, completed=10), part(2, 7, created=5, completed=20)]
        self.assertEqual(len(check_no_overlap(parts)), 1)

    def test_two_pending_matches_fail(self):
        parts = [part(1, 7, status="pending", created=0), part(2, 7, status="pending", created=5)]
        problems = check_no_overlap(parts)
        self.assertTrue(any("2 pending" in p for p in problems))

    def test_voided_matches_are_ignored(self):
        parts = [part(1, 7, created=0, completed=10), part(2, 7, status="voided", created=5)]
        self.assertEqual(check_no_overlap(parts), [])


class ExactlyOnce(unittest.TestCase):
    def test_counters_equal_to_completed_matches_hold(self):
        parts = [part(1, 7, result="win"), part(1, 8, result="loss", after=1480), part(2, 9, status="pending")]
        st = [stats(7), stats(8, mmr=1480, wins=0, losses=1), stats(9, games=0, wins=0)]
        self.assertEqual(check_counters(parts, st), [])

    def test_a_result_counted_twice_fails(self):
        parts = [part(1, 7)]
        self.assertEqual(len(check_counters(parts, [stats(7, games=2, wins=2)])), 1)

    def test_a_completed_match_without_ratings_fails(self):
        p = part(1, 7)._replace(result=None)
        self.assertTrue(check_counters([p], [stats(7, games=0, wins=0)]))

    def test_a_rating_chain_holds_and_ends_at_user_stats(self):
        parts = [part(1, 7, completed=10, before=1500, after=1520),
                 part(2, 7, created=10, completed=20, before=1520, after=1540)]
        self.assertEqual(check_rating_chains(parts, [stats(7, mmr=1540, games=2, wins=2)]), [])

    def test_a_result_applied_twice_breaks_the_chain(self):
        # The second application rated from 1520 again instead of from 1540.
        parts = [part(1, 7, completed=10, before=1500, after=1520),
                 part(2, 7, created=10, completed=20, before=1520, after=1540)]
        problems = check_rating_chains(parts, [stats(7, mmr=1560, games=3, wins=3)])
        self.assertEqual(len(problems), 1)
        gap = [part(1, 7, completed=10, before=1500, after=1520),
               part(2, 7, created=10, completed=20, before=1500, after=1520)]
        self.assertTrue(check_rating_chains(gap, [stats(7)]))

    def test_side_effects_once(self):
        parts = [part(1, 7), part(1, 8, result="loss")]
        picks = {(1, "1v1", "ranger"): 2}
        self.assertEqual(check_side_effects_once(parts, [1], [(7, 1), (8, 1)], picks, dict(picks)), [])
        self.assertEqual(len(check_side_effects_once(parts, [1, 1], [(7, 1), (8, 1)], picks, dict(picks))), 1)
        self.assertEqual(len(check_side_effects_once(parts, [1], [(7, 1)], picks, dict(picks))), 1)
        self.assertEqual(len(check_side_effects_once(parts, [1], [(7, 1), (8, 1)], {(1, "1v1", "ranger"): 4}, picks)), 1)


class Leaderboards(unittest.TestCase):
    def setUp(self):
        self.stats = [stats(7, mmr=1600), stats(8, mmr=1400, wins=0, losses=1), stats(9, games=0, wins=0)]
        self.regions = {7: "eu", 8: "na", 9: "eu"}
        self.names = {7: "alice", 8: "bob", 9: "carol"}

    def boards(self):
        return {
            "built": True,
            "board": {7: float(score(1600, 7)), 8: float(score(1400, 8))},
            "regional": {"eu": {7: float(score(1600, 7))}, "na": {8: float(score(1400, 8))}},
            "info": {7: ["alice", 1, 0], 8: ["bob", 0, 1]},
        }

    def check(self, boards, banned=frozenset()):
        return check_leaderboard("1v1", self.stats, self.regions, self.names, set(banned), **boards)

    def test_equal_boards_hold(self):
        self.assertEqual(self.check(self.boards()), [])

    def test_the_score_orders_mmr_then_lower_user_id(self):
        self.assertGreater(score(1600, 9), score(1599, 1))
        self.assertGreater(score(1500, 1), score(1500, 2))
        self.assertEqual(score(1500, 1) // SHIFT, 1500)

    def test_a_stale_score_fails(self):
        b = self.boards()
        b["board"][7] = float(score(1580, 7))
        self.assertEqual(len(self.check(b)), 1)

    def test_a_missing_player_a_stranger_and_a_wrong_region_fail(self):
        b = self.boards()
        del b["board"][8]
        b["board"][9] = float(score(1500, 9))
        b["regional"]["eu"][8] = b["regional"]["na"].pop(8)
        self.assertGreaterEqual(len(self.check(b)), 4)

    def test_stale_details_fail(self):
        b = self.boards()
        b["info"][7] = ["alice", 0, 0]
        self.assertEqual(len(self.check(b)), 1)

    def test_a_banned_player_must_not_be_listed(self):
        self.assertTrue(self.check(self.boards(), banned={8}))

    def test_boards_never_built_fail(self):
        b = self.boards()
        b["built"] = False
        self.assertEqual(len(self.check(b)), 1)


class Delivery(unittest.TestCase):
    completed = [{"match_id": 5, "mode": "1v1", "completed_ms": 1000, "users": [7, 8],
                  "notifications": [(7, 70)], "achievements": [(7, "first_win")]}]
    created = [{"match_id": 5, "created_ms": 100, "users": [7, 8]}]

    def pubs(self, clean=True):
        return publications(self.completed, self.created, {5: {"ok_ms": 1100, "clean": clean}})

    def received_all(self):
        return [(7, "rankings:1v1", "rk_rating", "5"), (7, "user:7", "rating", "5"), (8, "user:8", "rating", "5"),
                (7, "user:7", "notification", "70"), (7, "user:7", "achievement", "first_win"),
                (7, "user:7", "match_found", "5"), (8, "user:8", "match_found", "5")]

    def subs(self, end=9999, reason="run_end"):
        return [Sub(7, "user:7", 0, end, reason), Sub(7, "rankings:1v1", 0, end, reason), Sub(8, "user:8", 0, end, reason)]

    def test_everything_delivered_holds(self):
        pubs, skipped = self.pubs()
        out = check_delivery(pubs, self.subs(), self.received_all(), [])
        self.assertEqual(out["missed"], 0)
        self.assertEqual(out["kinds"]["rating"]["expected"], 2)
        self.assertEqual(sum(skipped.values()), 0)

    def test_a_lost_event_is_a_miss(self):
        pubs, _ = self.pubs()
        received = [r for r in self.received_all() if r[2] != "notification"]
        out = check_delivery(pubs, self.subs(), received, [])
        self.assertEqual(out["missed"], 1)
        self.assertEqual(out["misses"][0]["key"], "70")

    def test_an_event_received_twice_is_reported(self):
        pubs, _ = self.pubs()
        out = check_delivery(pubs, self.subs(), self.received_all() + [(8, "user:8", "rating", "5")], [])
        self.assertEqual(out["duplicate_count"], 1)

    def test_no_event_is_required_from_a_client_that_was_not_listening(self):
        pubs, _ = self.pubs()
        # Subscribed after the result's window opened: nothing of the result is required.
        late = [Sub(7, "user:7", 1050, 9999, "run_end"), Sub(7, "rankings:1v1", 1050, 9999, "run_end")]
        out = check_delivery(pubs, late, [], [])
        self.assertEqual(out["kinds"]["rk_rating"].get("expected", 0), 0)
        self.assertEqual(out["kinds"]["match_found"].get("expected", 0), 0)

    def test_nothing_is_required_during_a_redis_outage(self):
        pubs, _ = self.pubs()
        faults = [{"t_ms": 1050, "event": "redis_stopping"}, {"t_ms": 3000, "event": "redis_recovered"}]
        self.assertEqual(outage_windows(faults), [(1050, 3000)])
        out = check_delivery(pubs, self.subs(), [], faults)
        self.assertEqual(out["kinds"]["rk_rating"]["during_outage"], 1)
        # match_found's window (100..5100) touches the outage too.
        self.assertEqual(out["kinds"]["match_found"]["during_outage"], 2)
        self.assertEqual(out["missed"], 0)

    def test_results_with_an_unanswered_attempt_are_left_out(self):
        pubs, skipped = self.pubs(clean=False)
        self.assertEqual(skipped["ambiguous_result_window"], 1)
        self.assertFalse(any(p.kind == "rating" for p in pubs))

    def test_a_drop_soon_after_a_kill_ends_the_subscription_at_the_kill(self):
        faults = [{"t_ms": 5000, "event": "kill"}]
        self.assertEqual(effective_end(Sub(7, "user:7", 0, 5300, "ConnectionResetError"), [5000]), 5000)
        self.assertEqual(effective_end(Sub(7, "user:7", 0, 20000, "ConnectionResetError"), [5000]), 20000)
        self.assertEqual(effective_end(Sub(7, "user:7", 0, 5300, "run_end"), [5000]), 5300)
        self.assertEqual(outage_windows(faults), [])


if __name__ == "__main__":
    unittest.main()
