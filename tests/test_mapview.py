"""ComparisonMap / ComparisonModel without a browser: clicks, draws, locks, undo/redo, errors.

Fixture: six unit squares in two rows (b1 b2 b3 over b4 b5 b6), two accounts each; the
current plan gives each column its territory (T1 | T2 | T3).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from workbench.errors import InputError, PlanError
from workbench.mapview import ComparisonMap, ComparisonModel
from workbench.mapview.features import MOVED_STYLE

BLOCKS = ["b1", "b2", "b3", "b4", "b5", "b6"]


@pytest.fixture
def blocks():
    squares = [box(x, y, x + 1, y + 1) for y in (1, 0) for x in (0, 1, 2)]
    return gpd.GeoDataFrame({"county_fips": BLOCKS}, geometry=squares, crs="EPSG:4326")


@pytest.fixture
def accounts():
    column = {"b1": 0, "b2": 1, "b3": 2, "b4": 0, "b5": 1, "b6": 2}
    rows = []
    for block in BLOCKS:
        for k in range(2):
            rows.append({"account_id": f"{block}-{k}", "county_fips": block, "latitude": 0.5, "longitude": 0.5,
                         "workload": 1.0 + k, "current_territory": f"T{column[block] + 1}"})
    return pd.DataFrame(rows)


@pytest.fixture
def widget(accounts, blocks):
    labels = accounts["current_territory"].to_numpy()
    return ComparisonMap(labels, labels.copy(), blocks=blocks, block_col="county_fips", accounts=accounts,
                         metrics=["workload"], basemap=False)


def _ids(layer):
    return sorted(f["properties"]["id"] for f in layer.data["features"])


def _click(widget, block):
    widget._on_item_click(event="click", properties={"id": block}, feature={"properties": {"id": block}})


def _errors(widget) -> str:
    return "".join(o.get("text", "") for o in widget._errors.outputs)


def test_layers_one_per_territory_on_both_maps(widget):
    assert [layer.name for layer in widget.proposed_layers] == ["T1", "T2", "T3"]
    assert [_ids(layer) for layer in widget.current_layers] == [["b1", "b4"], ["b2", "b5"], ["b3", "b6"]]
    assert [_ids(layer) for layer in widget.proposed_layers] == [["b1", "b4"], ["b2", "b5"], ["b3", "b6"]]


def test_neighbouring_territories_get_different_colours(widget):
    colors = widget.colors
    assert colors["T1"] != colors["T2"] != colors["T3"]


def test_click_moves_block_and_redraws_only_the_two_territories(widget):
    untouched = widget.proposed_layers[2].data
    current_data = [layer.data for layer in widget.current_layers]
    scorecard = widget._scorecard.value
    widget.model.target = "T1"
    _click(widget, "b2")
    assert _errors(widget) == ""
    assert _ids(widget.proposed_layers[0]) == ["b1", "b2", "b4"]
    assert _ids(widget.proposed_layers[1]) == ["b5"]
    assert widget.proposed_layers[2].data is untouched
    assert all(layer.data is data for layer, data in zip(widget.current_layers, current_data))
    moved = [f for f in widget.proposed_layers[0].data["features"] if f["properties"]["id"] == "b2"][0]
    assert moved["properties"]["moved"] is True
    assert moved["properties"]["style"]["weight"] == MOVED_STYLE["weight"]
    assert moved["properties"]["style"]["fillColor"] == widget.colors["T1"]
    # workload per column was 6 | 6 | 6; b2 holds 1 + 2 = 3
    assert widget.model.loads()["workload"].tolist() == [9.0, 3.0, 6.0]
    assert widget._scorecard.value != scorecard
    assert "50.0%" in widget._scorecard.value  # max deviation: 9 vs mean 6
    assert "Moved b2 (2 accounts) to T1" in widget._status.value


def test_undo_and_redo_restore_layers_and_loads(widget):
    widget.model.target = "T3"
    _click(widget, "b1")
    assert widget.model.can_undo and not widget._undo.disabled
    widget._on_undo_click()
    assert _ids(widget.proposed_layers[0]) == ["b1", "b4"]
    assert widget.model.loads()["workload"].tolist() == [6.0, 6.0, 6.0]
    assert widget.model.scorecard().loc["accounts moved", "proposed"] == 0
    assert widget.model.scorecard().loc["edits on the map", "proposed"] == 0
    assert not widget._redo.disabled
    widget._on_redo_click()
    assert _ids(widget.proposed_layers[2]) == ["b1", "b3", "b6"]
    assert widget.model.labels[:2].tolist() == ["T3", "T3"]


def test_undo_with_nothing_to_undo_is_reported(widget):
    widget._on_undo_click()
    assert "PlanError: nothing to undo" in _errors(widget)


def test_locked_block_refuses_click_and_is_shown(widget):
    widget.model.mode = "lock"
    _click(widget, "b2")
    locked = [f for f in widget.proposed_layers[1].data["features"] if f["properties"]["id"] == "b2"][0]
    assert locked["properties"]["locked"] is True and "dashArray" in locked["properties"]["style"]
    widget.model.mode = "move"
    widget.model.target = "T1"
    _click(widget, "b2")
    assert "block ['b2'] is locked; unlock it before moving it" in _errors(widget)
    assert widget.model.labels[2:4].tolist() == ["T2", "T2"]
    widget.model.mode = "lock"
    _click(widget, "b2")  # unlock
    widget.model.mode = "move"
    _click(widget, "b2")
    assert _errors(widget) == ""
    assert widget.model.labels[2:4].tolist() == ["T1", "T1"]


def test_pick_mode_sets_target_from_clicked_block(widget):
    widget.model.mode = "pick"
    _click(widget, "b6")
    assert widget.model.target == "T3" and widget._target.value == "T3"
    assert "data-territory='T3' data-color='%s' data-target='1'" % widget.colors["T3"] in widget._bars.value
    assert widget.model.labels.tolist() == widget.model.current_labels.tolist()


def test_draw_moves_blocks_whose_centre_is_inside_skipping_locked(widget):
    widget.model.set_locked(["b4"])
    widget.model.target = "T3"
    rectangle = {"type": "Feature", "properties": {},
                 "geometry": {"type": "Polygon", "coordinates": [[[0.2, 0.2], [1.8, 0.2], [1.8, 1.8], [0.2, 1.8], [0.2, 0.2]]]}}
    widget._on_draw_created(target=widget._draw, action="created", geo_json=rectangle)
    assert _errors(widget) == ""
    owners = dict(zip(widget.model.item_ids, widget.model.territories[widget.model.item_owner]))
    assert owners == {"b1": "T3", "b2": "T3", "b3": "T3", "b4": "T1", "b5": "T3", "b6": "T3"}
    assert "1 locked left in place" in widget.model.status
    widget.model.undo()
    assert widget.model.labels.tolist() == widget.model.current_labels.tolist()


def test_error_in_callback_is_shown_in_output_with_traceback(widget, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("boom in the model")

    monkeypatch.setattr(widget.model, "move_items", boom)
    widget.model.target = "T2"
    _click(widget, "b1")
    text = _errors(widget)
    assert "Traceback" in text and "RuntimeError: boom in the model" in text
    assert "boom in the model" in widget._status.value


def test_unknown_target_is_refused(widget):
    with pytest.raises(PlanError, match=r"unknown territory 'T9'; choose one of \['T1', 'T2', 'T3'\]"):
        widget.model.move_items(["b1"], "T9")
    with pytest.raises(InputError, match="'b9' is not a block on this map"):
        widget.model.move_items(["b9"], "T1")


def test_filters_only_moved_and_one_territory(widget):
    widget.model.target = "T1"
    _click(widget, "b3")
    widget.model.only_moved = True
    assert [_ids(layer) for layer in widget.proposed_layers] == [["b3"], [], []]
    assert [_ids(layer) for layer in widget.current_layers] == [[], [], ["b3"]]
    widget.model.only_moved = False
    widget.model.show = "territory:T2"
    assert [_ids(layer) for layer in widget.proposed_layers] == [[], ["b2", "b5"], []]


def test_color_by_metric_uses_deviation_colours(widget):
    widget.model.target = "T1"
    _click(widget, "b2")  # T1 over, T2 under
    widget.model.color_by = "workload"
    fill = {layer.name: layer.data["features"][0]["properties"]["style"]["fillColor"] for layer in widget.proposed_layers}
    assert fill["T1"].startswith("#") and fill["T1"] != fill["T2"]
    assert fill["T3"] == "#f7f7f7"  # exactly at the mean: the neutral middle colour
    assert "Deviation" not in widget._bars.value and "under" in widget._bars.value


def test_plans_round_trip_and_save(accounts, blocks, tmp_path):
    from workbench.plan import Plan, load_plan

    current = Plan.from_column(accounts)
    proposal = current.reassign_blocks(["b3"], "T2")
    widget = ComparisonMap(current, proposal, blocks=blocks, block_col="county_fips", basemap=False)
    assert widget.model.scorecard().loc["accounts moved", "proposed"] == 2
    widget.model.target = "T1"
    _click(widget, "b5")
    edited = widget.proposed
    assert edited.parent is not None and edited.history()[-2] is proposal
    assert edited.assignments.loc[["b5-0", "b5-1", "b3-0"]].tolist() == ["T1", "T1", "T2"]
    widget._folder.value = str(tmp_path)
    widget._on_save_click()
    assert "name the scenario before saving it" in _errors(widget)  # a name is required
    assert widget.model.unsaved and "unsaved changes" in widget._unsaved.value
    widget._name.value = "B5 to T1"
    widget._on_save_click()
    assert _errors(widget) == ""
    assert "b5-to-t1" in widget._saved.value
    saved = load_plan(tmp_path / "b5-to-t1")
    assert saved.assignments.equals(edited.assignments) and saved.name == "B5 to T1"
    assert not widget.model.unsaved and "no unsaved changes" in widget._unsaved.value


def test_account_mode_without_blocks(accounts):
    accounts = accounts.assign(latitude=np.arange(12) % 3 + 0.0, longitude=np.arange(12) // 3 + 0.0)
    labels = np.where(accounts["longitude"] < 2, "A", "B")
    widget = ComparisonMap(labels, labels, accounts=accounts, metrics=["workload"], basemap=False)
    assert widget.model.kind == "account" and len(widget.model.item_ids) == 12
    widget.model.target = "B"
    _click(widget, "b1-0")
    assert widget.model.labels[0] == "B"
    assert "b1-0" in _ids(widget.proposed_layers[1])


def test_model_rejects_accounts_outside_blocks(accounts, blocks):
    accounts.loc[0, "county_fips"] = "zz"
    with pytest.raises(InputError, match=r"accounts are in county_fips \['zz'\] which are not among the blocks"):
        ComparisonModel(accounts["current_territory"], accounts["current_territory"], accounts=accounts,
                        blocks=blocks, block_col="county_fips")


def test_model_rejects_wrong_label_count(accounts):
    with pytest.raises(InputError, match="current has 2 entries but accounts has 12 rows"):
        ComparisonModel(["T1", "T2"], accounts["current_territory"], accounts=accounts)


def test_model_move_to_same_territory_is_a_no_op(accounts, blocks):
    labels = accounts["current_territory"].to_numpy()
    model = ComparisonModel(labels, labels, accounts=accounts, blocks=blocks, block_col="county_fips")
    assert model.move_items(["b1"], "T1") is None
    assert model.revision == 0 and "already in 'T1'" in model.status
    with pytest.raises(PlanError, match="nothing to redo"):
        model.redo()


def test_no_default_target_first_click_explains(widget):
    assert widget.model.target == "" and widget._target.value == ""
    assert widget._target.options[0] == ("Choose a territory…", "")
    _click(widget, "b2")
    assert widget.model.labels.tolist() == widget.model.current_labels.tolist()  # nothing moved
    assert "Choose a territory in 'Move to' first" in widget._status.value
    assert not widget.model.unsaved


def test_click_on_a_block_without_accounts_says_why(accounts, blocks):
    blocks = pd.concat([blocks, gpd.GeoDataFrame({"county_fips": ["b7"], "name": ["Empty"], "state": ["ZZ"]},
                                                 geometry=[box(3, 0, 4, 1)], crs="EPSG:4326")], ignore_index=True)
    labels = accounts["current_territory"].to_numpy()
    widget = ComparisonMap(labels, labels.copy(), blocks=blocks, block_col="county_fips", accounts=accounts,
                           metrics=["workload"], basemap=False)
    widget.model.target = "T1"
    _click(widget, "b7")
    assert "Empty, ZZ has no accounts, so there is nothing to move" in widget._status.value
    assert widget.model.revision == 0


def test_a_move_that_breaks_contiguity_is_flagged_at_once(widget):
    # T2 holds b2 (top) and b5 (bottom); moving b2 to T1 leaves T2 whole, moving b2 to T3 too;
    # T1 = b1, b4: give b5 to T1 and T2 keeps only b2 (still whole) -> move b1 to T3: T1 = b4, b5 whole.
    widget.model.target = "T3"
    _click(widget, "b1")  # T3 = b1, b3, b6 + T1 = b4: T3 is split in two pieces (b1 | b3-b6)
    assert widget.model.pieces[widget.model.territory_code("T3")] == 2
    assert "T3 is no longer contiguous: 2 pieces" in widget._alerts.value
    assert "wb-alert" in widget._alerts.value
    card = widget.model.scorecard()
    assert card.loc["non-contiguous territories"].tolist() == [0, 1]
    assert "T3 is not contiguous: 2 separate pieces" in widget._review.value
    widget._on_undo_click()
    assert widget.model.scorecard().loc["non-contiguous territories", "proposed"] == 0
    assert widget._alerts.value == ""  # the stale warning is gone


def _map_with_homes(accounts, blocks, longitudes, names):
    """The 3 x 2 grid's map with the reps of T1, T2, T3 living at ``longitudes`` (latitude 1.5)."""
    homes = pd.DataFrame({"territory_id": ["T1", "T2", "T3"], "latitude": [1.5, 1.5, 1.5],
                          "longitude": longitudes, "name": names})
    labels = accounts["current_territory"].to_numpy()
    return ComparisonMap(labels, labels.copy(), blocks=blocks, block_col="county_fips", accounts=accounts,
                         metrics=["workload"], basemap=False, reps=homes)


def test_a_move_far_from_the_reps_home_is_flagged(accounts, blocks):
    # Homes: T1's rep lives in b1, T3's far to the east (20 degrees, about 2,200 km).
    widget = _map_with_homes(accounts, blocks, [0.5, 1.5, 22.5], ["Ana", "Ben", "Cy"])
    assert [label for label, _ in widget._target.options[1:]] == ["T1 · Ana", "T2 · Ben", "T3 · Cy"]
    widget.model.target = "T1"
    _click(widget, "b2")  # 1 degree from Ana's home: not far
    assert widget.model.far_items().sum() == 0 and widget._alerts.value == ""
    widget.model.target = "T3"
    _click(widget, "b4")  # ~2,400 km from Cy's home, and farther than any block T3 holds today
    assert widget.model.far_items().sum() == 1
    assert "b4 is 2," in widget._alerts.value and "T3 (Cy)" in widget._alerts.value
    assert widget.model.scorecard().loc["far moves"].tolist() == [0, 1]


def test_tooltip_shows_block_territory_rep_load_and_deviation(widget):
    widget.model.target = "T1"
    _click(widget, "b2")
    box_widget = next(iter(widget._tooltips.values()))
    widget._on_item_hover(event="mouseover", properties={"id": "b1"}, side="proposed", box=box_widget)
    text = box_widget.value
    assert "b1" in text and "T1" in text and "2 accounts here" in text
    assert "territory workload 9 h (+50.0%)" in text
    widget._on_item_hover(event="mouseover", properties={"id": "b1"}, side="current", box=box_widget)
    assert "territory workload 6 h (0.0%)" in box_widget.value


def test_unsaved_marker_follows_edits(widget):
    assert "no unsaved changes" in widget._unsaved.value
    widget.model.target = "T1"
    _click(widget, "b2")
    assert "data-unsaved='1'" in widget._unsaved.value
    widget.model.mark_saved()
    assert "data-unsaved='0'" in widget._unsaved.value


def test_zoom_to_a_territory_fits_its_blocks(widget):
    widget._zoom.value = "territory:T2"
    assert _errors(widget) == ""
    assert widget._zoomed_to == ((0.0, 1.0), (2.0, 2.0))


def test_scenario_names_are_required_and_distinct(accounts, tmp_path):
    from workbench.errors import PlanError as Refused
    from workbench.plan import Plan, save_scenario

    current = Plan.from_column(accounts)
    first = save_scenario(current.reassign(["b1-0"], "T2"), tmp_path, "west")
    with pytest.raises(Refused, match="plan name 'West' is already used by the plan saved in"):
        save_scenario(current.reassign(["b1-1"], "T2"), tmp_path, "West")
    with pytest.raises(Refused, match="a scenario needs a name"):
        save_scenario(current, tmp_path, "  ")
    assert save_scenario(current.reassign(["b1-0"], "T2"), tmp_path, "west") == first  # same content: reused


def test_approval_panel_needs_the_box_ticked_for_warnings(accounts, tmp_path):
    from workbench.mapview import ApprovalPanel
    from workbench.plan import Plan, load_plan

    draft = Plan.from_column(accounts).reassign(["b1-0"], "T2")  # an edit after the optimisation: a warning
    panel = ApprovalPanel(draft, folder=tmp_path, by="")
    assert panel.review.warnings and panel._accept.layout.display == "flex"
    assert panel._button.disabled and "type the approver's name" in panel._result.value
    panel._by.value = "Dana"
    assert panel._button.disabled and "tick the box" in panel._result.value
    assert panel.approve_if_acknowledged(False) is None and "Not approved" in panel._result.value
    panel._accept.value = True
    assert not panel._button.disabled
    panel._on_approve_click()
    assert panel.approved is not None and "Approved" in panel._result.value
    saved = load_plan(panel.approved_path)
    assert saved.is_approved and saved.metadata.accepted_warnings == panel.review.warnings
    assert "Review before approval" in panel._review.value and "wb-approval-warnings" in panel._review.value


def test_saved_edits_read_as_sentences_naming_blocks_territories_and_reps(accounts, blocks, tmp_path):
    from workbench.plan import Plan, format_tree, plan_tree, save_plan, save_scenario

    named = blocks.assign(name=["Clay", "Jackson", "Platte", "Cass", "Ray", "Lafayette"], state="MO")
    reps = pd.DataFrame({"rep_id": ["R1", "R2", "R3"], "name": ["Ann Lee", "Bo Chan", "Cy Diaz"],
                         "territory_id": ["T1", "T2", "T3"], "latitude": 0.5, "longitude": 0.5})
    current = Plan.from_column(accounts, name="current", reps=reps)
    model = ComparisonModel(current, current.with_name("proposal"), blocks=named, block_col="county_fips")
    model.move_items(["b2"], "T1")
    model.move_items(["b3", "b6"], "T2")
    edits = model.to_plan().history_table()["edit"].tolist()[-2:]
    assert edits == ["Moved Jackson, MO (2 accounts) from T2 (Bo Chan) to T1 (Ann Lee)",
                     "Moved 4 accounts in 2 counties (Platte, MO and Lafayette, MO) from T3 (Cy Diaz) to T2 (Bo Chan)"]

    root = tmp_path
    save_plan(model.proposed_plan, root / "proposal")
    save_scenario(model.to_plan(), root, "adjusted")
    tree = format_tree(plan_tree(root))
    assert "Moved Jackson, MO (2 accounts) from T2 (Bo Chan) to T1 (Ann Lee)" in tree
    assert "reassign" not in tree and "account(s)" not in tree


def test_try_move_takes_back_a_move_that_splits_a_territory(widget):
    model = widget.model
    warnings = model.try_move(["b1"], "T3")  # b1 does not touch T3's blocks: T3 would be in pieces
    assert warnings and any("no longer contiguous" in w for w in warnings), warnings
    assert model.labels[:2].tolist() == ["T1", "T1"] and not model.can_undo and not model.can_redo
    assert model.try_move(["b2"], "T3") == []  # b2 touches b3: T3 stays in one piece
    assert model.labels[2:4].tolist() == ["T3", "T3"] and model.can_undo


def test_rep_names_that_would_overlap_show_a_dot_until_zoomed_in(accounts, blocks):
    # Ana and Ben live 0.05 degree apart: at the opening zoom Ben's name would sit on Ana's; Cy is far away.
    widget = _map_with_homes(accounts, blocks, [0.5, 0.55, 22.5], ["Ana Lee", "Ben Orr", "Cy Park"])

    def written(group):
        return ["wb-rep-name" in marker.icon.html for marker in group.layers]

    widget._proposed_map.zoom = 4
    assert [written(g) for g in widget.rep_layers] == [[True, False, True]] * 2
    assert [m.title for m in widget.rep_layers[0].layers] == ["Ana Lee", "Ben Orr", "Cy Park"]  # named on hover
    widget._proposed_map.zoom = 12
    assert [written(g) for g in widget.rep_layers] == [[True, True, True]] * 2
