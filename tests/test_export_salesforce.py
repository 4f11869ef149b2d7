"""Salesforce Enterprise Territory Management load files."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.export import export_plan
from workbench.crmnames import MAX_DEVELOPER_NAME, developer_name, unique_developer_names
from workbench.export.salesforce import territory_hierarchy

API_NAME = re.compile(r"^[A-Za-z](?:[A-Za-z0-9]|_(?!_))*(?<!_)$")


def _valid(name: str) -> bool:
    return bool(API_NAME.match(name)) and "__" not in name and len(name) <= MAX_DEVELOPER_NAME


@pytest.mark.parametrize("text, expected", [
    ("T01", "T01"),
    ("North-East / Boston", "North_East_Boston"),
    ("__x__y__", "x_y"),
    ("1st", "X_1st"),
    ("", "X"),
    ("../../etc/passwd", "etc_passwd"),
    ("Zoë's  Café", "Zoe_s_Cafe"),
    ("日本", "X"),
])
def test_developer_name_examples(text, expected):
    assert developer_name(text) == expected


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(max_size=120), max_size=12))
def test_developer_names_are_valid_and_unique_ignoring_case(texts):
    names = unique_developer_names(texts)
    assert len(names) == len(texts)
    assert all(_valid(n) for n in names), names
    assert len({n.lower() for n in names}) == len(names)


def test_uniqueness_survives_truncation_to_80_characters():
    texts = ["a" * 100, "a" * 90, "A" * 81]
    names = unique_developer_names(texts)
    assert names == ["a" * 80, "a" * 78 + "_2", "A" * 78 + "_3"]
    assert all(_valid(n) for n in names)


def test_hierarchy_is_top_down_with_parents_before_children():
    territories = pd.DataFrame({
        "territory_name": ["Boston", "NYC", "LA", "Solo"],
        "region": ["East", "East", "West", ""],
        "area": ["US", "US", "US", ""],
    }, index=pd.Index(["T1", "T2", "T3", "T4"], name="territory_id"))
    table = territory_hierarchy(territories)
    assert table["level"].tolist() == ["area", "region", "region", "territory", "territory", "territory", "territory"]
    assert table["DeveloperName"].tolist() == ["Area_US", "Region_East", "Region_West", "T1", "T2", "T3", "T4"]
    assert table["ParentTerritory2Id"].tolist() == ["", "Area_US", "Area_US", "Region_East", "Region_East",
                                                    "Region_West", ""]
    seen = set()
    for name, parent in zip(table["DeveloperName"], table["ParentTerritory2Id"]):
        assert parent == "" or parent in seen
        seen.add(name)


def test_same_region_name_in_two_areas_gives_two_regions():
    territories = pd.DataFrame({"territory_name": ["a", "b"], "region": ["North", "North"], "area": ["EU", "US"]},
                               index=pd.Index(["T1", "T2"], name="territory_id"))
    table = territory_hierarchy(territories)
    regions = table[table["level"] == "region"]
    assert regions["DeveloperName"].tolist() == ["Region_North", "Region_North_2"]
    assert regions["ParentTerritory2Id"].tolist() == ["Area_EU", "Area_US"]
    leaves = table[table["level"] == "territory"]
    assert leaves["ParentTerritory2Id"].tolist() == ["Region_North", "Region_North_2"]


def test_load_files(tmp_path):
    from test_export import make_plan

    plan = make_plan()
    out = export_plan(plan, tmp_path / "out", formats="salesforce") / "salesforce"
    read = lambda name: pd.read_csv(out / name, dtype=str, keep_default_na=False)  # noqa: E731
    model = read("Territory2Model.csv")
    assert list(model.columns) == ["Name", "DeveloperName", "Description"] and len(model) == 1
    assert _valid(model["DeveloperName"][0]) and plan.content_hash in model["Description"][0]
    territory2 = read("Territory2.csv")
    assert list(territory2.columns) == ["Name", "DeveloperName", "Territory2ModelId", "Territory2TypeId",
                                        "ParentTerritory2Id", "Level", "WorkbenchTerritoryId"]
    assert territory2["Level"].tolist() == ["area", "region", "region", "territory", "territory", "territory"]
    assert territory2["Name"].tolist() == ["US", "East", "West", "Philly", "../../North", "West/<b>3</b>"]
    assert territory2["DeveloperName"].tolist() == ["Area_US", "Region_East", "Region_West", "T1", "T2", "T3"]
    assert territory2["ParentTerritory2Id"].tolist() == ["", "Area_US", "Area_US", "Region_East", "Region_East",
                                                         "Region_West"]
    assert set(territory2["Territory2ModelId"]) == {model["DeveloperName"][0]}
    assert set(territory2["Territory2TypeId"]) == {"Territory_Workbench"}
    assert all(_valid(n) for n in territory2["DeveloperName"])
    objects = read("ObjectTerritory2Association.csv")
    assert list(objects.columns) == ["ObjectId", "Territory2Id", "AssociationCause"]
    assert len(objects) == len(plan.accounts)
    assert objects["ObjectId"].tolist() == ["00123", "'=cmd|' /C calc'!A0", "'+1", "'@sum", "'-5", "''quoted"]
    assert objects["Territory2Id"].tolist() == ["T1", "T1", "T2", "T3", "T2", "T3"]
    assert set(objects["AssociationCause"]) == {"Territory2Manual"}
    users = read("UserTerritory2Association.csv")
    assert users.to_dict("list") == {"UserId": ["r1", "r2", "r3"], "Territory2Id": ["T1", "T2", "T3"],
                                     "RoleInTerritory2": ["Sales Rep"] * 3, "IsActive": ["true"] * 3}
    readme = (out / "README.txt").read_text()
    order = [readme.index(s) for s in ("1. Territory2Model.csv", "a. rows with Level = area",
                                       "b. rows with Level = region", "c. rows with Level = territory",
                                       "3. UserTerritory2Association.csv", "4. ObjectTerritory2Association.csv")]
    assert order == sorted(order)
    assert "6 account -> territory assignments" in readme and "Territory_Workbench" in readme
