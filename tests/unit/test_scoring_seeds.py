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
