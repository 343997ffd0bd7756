"""The benchmarks' verdicts (bench/harness.py): a row is missed exactly when its figure is on
the wrong side of its goal, or when it could not be measured where it must be (CI)."""

from __future__ import annotations

import pytest

from bench.harness import Measured, Row, report, throughput_row


@pytest.mark.parametrize(
    ("row", "missed"),
    [
        (Row("ratio", 0.5, 0.5), False),
        (Row("ratio", 0.49, 0.5), True),
        (Row("p99 ratio", 1.5, 1.5, at_least=False), False),
        (Row("p99 ratio", 1.51, 1.5, at_least=False), True),
        (Row("SQL per lookup", 3, 2, at_least=False, digits=0), True),
        (Row("granian ÷ uvicorn", 0.1), False),  # no goal: a figure for a decision
        (Row("two workers ÷ one", 0.9, 1.6, not_checked="2 cores"), False),
        (Row("no answer in time", None, 0.5), True),
        (Row("PostgreSQL rows", skipped="not reachable"), False),
        (Row("PostgreSQL rows", skipped="not reachable", required=True), True),
    ],
)
def test_a_row_is_missed_only_on_the_wrong_side_of_its_goal(row, missed):
    assert row.missed is missed
    assert ("MISSED" in row.line()) is missed


def test_a_row_prints_its_figure_goal_and_verdict():
    assert Row("lookup ÷ /healthz", 0.42, 0.5, detail="42 vs 100 req/s").line() == (
        "lookup ÷ /healthz: 0.42 (42 vs 100 req/s) (goal ≥ 0.5) MISSED"
    )
    unchecked = Row("two workers ÷ one", 1.2, 1.6, not_checked="2 cores").line()
    assert unchecked == "two workers ÷ one: 1.20 (goal ≥ 1.6 not checked: 2 cores)"


def test_a_target_with_no_answer_gives_no_ratio():
    measured = {"big": Measured(5, 100, (4, 6)), "small": Measured(0, 0, (0, 0))}
    assert throughput_row("big ÷ small", measured, "big", "small", 0.5).missed
    assert throughput_row("small ÷ big", measured, "small", "big", 0.5).value == 0


def test_the_run_fails_on_a_missed_goal(capsys):
    assert report([Row("ok", 1, 0.5), Row("missed", 0.1, 0.5)]) == 1
    assert report([Row("ok", 1, 0.5), Row("decision", 0.1)]) == 0
    assert "missed: 0.10 (goal ≥ 0.5) MISSED" in capsys.readouterr().out
