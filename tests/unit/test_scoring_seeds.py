"""The seeds are the one statement of the index's groups, criteria and ratings (index-766.md §1-§3)."""

from chiso import scoring


def test_six_portal_groups_add_to_100():
    groups = scoring.groups()
    assert list(groups) == ["CKMB", "TDGQ", "DVCTT", "TTTT", "MDHL", "SHHS"]
    assert [g.max_points for g in groups.values()] == [18, 20, 12, 10, 18, 22]
    assert scoring.total_max() == 100


def test_each_group_maximum_is_the_sum_of_its_criteria():
    by_group: dict[str, float] = {}
    for criterion in scoring.criteria().values():
        by_group[criterion.group_code] = by_group.get(criterion.group_code, 0) + criterion.max_points
    assert by_group == {code: g.max_points for code, g in scoring.groups().items()}


def test_rating_bands_from_design_section_5():
    assert [scoring.rating_for(t) for t in (100, 90, 89.99, 80, 70, 69.99, 50, 49.99, 0)] == [
        "Xuất sắc", "Xuất sắc", "Tốt", "Tốt", "Khá", "Trung bình", "Trung bình", "Yếu", "Yếu"]


def test_a_month_before_the_rules_is_refused_before_anything_lands():
    import pytest

    from chiso.inventory import ScopeError

    # v2026.1 applies from 2025-07-01: June 2025 has no rules, July has, under either cycle
    # (the 15th cycle's 2025-07 starts on 15 June but is July's index)
    with pytest.raises(ScopeError, match=r"period 2025-06: no scoring rules .* apply from 2025-07-01"):
        scoring.check_rules_in_force("2025-06")
    scoring.check_rules_in_force("2025-07")
    scoring.check_rules_in_force("2026-01")


def test_the_dag_refuses_such_a_month_before_touching_the_warehouse(monkeypatch, tmp_path):
    import pytest

    from chiso import pipeline, warehouse
    from chiso.inventory import ScopeError

    def no_warehouse(*_args, **_kwargs):
        raise AssertionError("the warehouse was touched")

    monkeypatch.setattr(warehouse, "bootstrap", no_warehouse)
    job = pipeline.Job.from_params({"submissions": str(tmp_path), "period": "2025-06", "cycle": "15th"})
    with pytest.raises(ScopeError, match="2025-06"):
        pipeline.start_run(job, "run-1")
