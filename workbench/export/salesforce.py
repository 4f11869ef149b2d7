"""Data Loader files for Salesforce Enterprise Territory Management (ETM).

Writes ``Territory2Model.csv``, ``Territory2.csv`` (areas, regions and
territories as one hierarchy), ``UserTerritory2Association.csv`` and
``ObjectTerritory2Association.csv`` plus a README with the load order.

Salesforce only knows its own record ids after a load, so every reference
column (``Territory2ModelId``, ``Territory2TypeId``, ``ParentTerritory2Id``,
``Territory2Id``, ``UserId``) holds the *DeveloperName* (or rep id) of the
record it points to; the README explains how to swap in the ids.
"""

from __future__ import annotations


from pathlib import Path

import pandas as pd

from workbench.crmnames import developer_name, unique_developer_names
from workbench.safeio import write_csv
from workbench.schema import ACCOUNT_ID, AREA, REGION, REP_ID, TERRITORY_ID, TERRITORY_NAME

#: DeveloperName of the Territory2Type the territories need (created by hand in Setup).
TERRITORY_TYPE = "Territory_Workbench"
#: Value written to ``RoleInTerritory2`` (must exist in your org's picklist).
REP_ROLE = "Sales Rep"
#: Value of ``AssociationCause`` for assignments made by a load.
ASSOCIATION_CAUSE = "Territory2Manual"

def territory_hierarchy(territories: pd.DataFrame) -> pd.DataFrame:
    """Areas, regions and territories as one top-down table of Territory2 records.

    Parameters
    ----------
    territories : pandas.DataFrame
        Index territory_id; columns territory_name, region, area (text, may be empty).

    Returns
    -------
    pandas.DataFrame
        Columns ``level`` ("area", "region", "territory"), ``key`` (territory
        id for territories), ``Name``, ``DeveloperName``, ``parent_key``,
        ``ParentTerritory2Id`` (the parent's DeveloperName, empty at the top),
        rows ordered areas, regions, territories.

    Examples
    --------
    >>> t = pd.DataFrame({"territory_name": ["Boston", "NYC"], "region": ["East", "East"],
    ...                   "area": ["", ""]}, index=pd.Index(["T1", "T2"], name="territory_id"))
    >>> territory_hierarchy(t)[["level", "DeveloperName", "ParentTerritory2Id"]].values.tolist()
    [['region', 'Region_East', ''], ['territory', 'T1', 'Region_East'], ['territory', 'T2', 'Region_East']]
    """
    frame = territories.copy()
    for column in (TERRITORY_NAME, REGION, AREA):
        if column not in frame.columns:
            frame[column] = ""
        frame[column] = frame[column].fillna("").astype(str)
    rows = []
    areas = sorted(a for a in frame[AREA].unique() if a)
    rows += [{"level": "area", "key": ("area", a), "Name": a, "parent_key": None} for a in areas]
    pairs = frame.loc[frame[REGION] != "", [AREA, REGION]].drop_duplicates().sort_values([AREA, REGION])
    rows += [
        {"level": "region", "key": ("region", a, r), "Name": r, "parent_key": ("area", a) if a else None}
        for a, r in pairs.itertuples(index=False)
    ]
    for tid, row in frame.sort_index().iterrows():
        if row[REGION]:
            parent = ("region", row[AREA], row[REGION])
        elif row[AREA]:
            parent = ("area", row[AREA])
        else:
            parent = None
        rows.append({"level": "territory", "key": str(tid), "Name": row[TERRITORY_NAME] or str(tid), "parent_key": parent})
    table = pd.DataFrame(rows, columns=["level", "key", "Name", "parent_key"])
    texts = [
        {"area": "Area_", "region": "Region_", "territory": ""}[level] + (key if level == "territory" else name)
        for level, key, name in zip(table["level"], table["key"], table["Name"])
    ]
    table["DeveloperName"] = unique_developer_names(texts, prefix="T")
    lookup = dict(zip(table["key"], table["DeveloperName"]))
    table["ParentTerritory2Id"] = [lookup[p] if p is not None else "" for p in table["parent_key"]]
    # Salesforce limits Name to 80 characters too.
    table["Name"] = table["Name"].str.slice(0, 80)
    return table


def salesforce_tables(plan_name: str, table: pd.DataFrame, territories: pd.DataFrame, *, draft: bool = False,
                      plan_hash: str = "", quotas: pd.DataFrame | None = None,
                      quota_start: str | None = None) -> dict[str, pd.DataFrame]:
    """The four Data Loader tables, keyed by file name.

    Parameters
    ----------
    plan_name : str
        Name of the plan (the Territory2Model name).
    table : pandas.DataFrame
        Assignment table (account_id, territory_id).
    territories : pandas.DataFrame
        Index territory_id; territory_name, rep_id, region, area.
    draft : bool
        Prefix the model's name and DeveloperName with DRAFT.
    plan_hash : str
        Recorded in the model description.
    quotas : pandas.DataFrame, optional
        Territory quotas (:func:`workbench.quota.territory_quotas`): adds
        ``ForecastingQuota.csv`` (QuotaAmount, QuotaOwnerId, StartDate,
        Territory2Id, WorkbenchTerritoryId), starting ``quota_start``.
    """
    label = f"DRAFT {plan_name}" if draft else plan_name
    model_name = developer_name(("DRAFT_" if draft else "") + f"{plan_name}_{plan_hash[:8]}", prefix="Model")
    model = pd.DataFrame({
        "Name": [label[:80]],
        "DeveloperName": [model_name],
        "Description": [f"Territory Workbench plan {plan_name} ({'DRAFT, not approved' if draft else 'approved'}); hash {plan_hash}"],
    })
    hierarchy = territory_hierarchy(territories)
    territory2 = pd.DataFrame({
        "Name": hierarchy["Name"],
        "DeveloperName": hierarchy["DeveloperName"],
        "Territory2ModelId": model_name,
        "Territory2TypeId": TERRITORY_TYPE,
        "ParentTerritory2Id": hierarchy["ParentTerritory2Id"],
        "Level": hierarchy["level"],
        "WorkbenchTerritoryId": [k if isinstance(k, str) else "" for k in hierarchy["key"]],
    })
    developer = dict(zip(territory2["WorkbenchTerritoryId"], territory2["DeveloperName"]))
    reps = territories[REP_ID].fillna("").astype(str) if REP_ID in territories.columns else pd.Series(dtype=str)
    reps = reps[reps != ""]
    users = pd.DataFrame({
        "UserId": reps.to_numpy(),
        "Territory2Id": [developer[str(t)] for t in reps.index],
        "RoleInTerritory2": REP_ROLE,
        "IsActive": "true",
    })
    objects = pd.DataFrame({
        "ObjectId": table[ACCOUNT_ID].to_numpy(),
        "Territory2Id": table[TERRITORY_ID].astype(str).map(developer).to_numpy(),
        "AssociationCause": ASSOCIATION_CAUSE,
    })
    out = {
        "Territory2Model.csv": model,
        "Territory2.csv": territory2,
        "UserTerritory2Association.csv": users,
        "ObjectTerritory2Association.csv": objects,
    }
    if quotas is not None:
        from workbench.quota import salesforce_quotas

        out["ForecastingQuota.csv"] = salesforce_quotas(quotas, quota_start, developer_names=developer)
    return out


README = """\
{banner}Salesforce Enterprise Territory Management load files
=====================================================

Plan: {plan_name}
Plan hash: {plan_hash}
Status: {status}

Files (UTF-8 CSV, comma separated, header row; set Data Loader's
"Read all CSVs with UTF-8 encoding"):

  Territory2Model.csv               1 territory model
  Territory2.csv                    {n_territory2} territories: {n_areas} areas, {n_regions} regions, {n_leaves} sales territories
  UserTerritory2Association.csv     {n_users} rep -> territory assignments
  ObjectTerritory2Association.csv   {n_objects} account -> territory assignments
{quota_line}
Before you start
----------------
1. Enterprise Territory Management must be enabled (Setup > Territory Settings).
2. Create a Territory Type with API name {territory_type} (Setup > Territory Types),
   or replace {territory_type} in Territory2.csv with an existing type's API name.
3. RoleInTerritory2 is "{rep_role}": add it to the Role in Territory picklist
   (Setup > Object Manager > User Territory Association) or edit the column.

How references work
-------------------
Salesforce assigns record ids only when a record is loaded, so each reference
column holds the DeveloperName of the record it points to:

  Territory2.csv  Territory2ModelId   -> Territory2Model.DeveloperName
                  Territory2TypeId    -> Territory2Type.DeveloperName ({territory_type})
                  ParentTerritory2Id  -> parent Territory2.DeveloperName (empty at the top)
  *Association.csv Territory2Id       -> Territory2.DeveloperName
  UserTerritory2Association.csv UserId   -> the rep id of the plan (rep_id)
  ObjectTerritory2Association.csv ObjectId -> the plan's account_id

Replace each with the Salesforce Id before loading a file. The success file
Data Loader writes after each insert repeats your columns with the new ID in
the first column: look the DeveloperName up there (e.g. Excel XLOOKUP, or
SOQL "SELECT Id, DeveloperName FROM Territory2 WHERE Territory2ModelId = ..."
exported with Data Loader's Export). Map rep ids to User Ids with an export of
"SELECT Id, FederationIdentifier, Username FROM User" and account ids to Account
Ids the same way, unless the plan's ids already are Salesforce Ids.
Columns "Level" and "WorkbenchTerritoryId" in Territory2.csv are for you: do not
map them.

Load order (Data Loader > Insert)
---------------------------------
1. Territory2Model.csv -> object Territory2Model (Territory Model).
   Note its Id from the success file.
2. Territory2.csv -> object Territory2, top-down, in three inserts so every
   parent exists before its children:
     a. rows with Level = area      (ParentTerritory2Id empty)
     b. rows with Level = region    (parents: the areas of step a)
     c. rows with Level = territory (parents: the regions of step b)
   Before each insert fill Territory2ModelId, Territory2TypeId and
   ParentTerritory2Id with ids from the earlier success files.
3. UserTerritory2Association.csv -> object UserTerritory2Association.
4. ObjectTerritory2Association.csv -> object ObjectTerritory2Association.
5. In Setup > Territory Models, review the model, then Activate it (only one
   model can be active; activating replaces the current one).
{quota_steps}
Text that a spreadsheet would run as a formula (starting with = + - @) is
written with a leading apostrophe; remove it if such a value is real.
"""


_QUOTA_STEPS = """\
6. ForecastingQuota.csv -> object ForecastingQuota (Collaborative Forecasts
   must be enabled, with a forecast type and quotas turned on). Columns:
     QuotaAmount   the territory's quota in the org's currency (the quotas
                   sum to the company target exactly)
     QuotaOwnerId  the rep id of the territory's rep -> replace with the
                   User Id, as for UserTerritory2Association.csv
     StartDate     first day of the quota period ({quota_start})
     Territory2Id  -> Territory2.DeveloperName (for territory forecasts; swap
                   in the Id from step 2's success file, or leave unmapped)
   Also map ForecastingTypeId (your forecast type's Id; Setup > Forecasts
   Settings). Territories without a rep have no quota owner and are not in
   this file (their quota is in ../quotas.csv). "WorkbenchTerritoryId" is for
   you: do not map it.
"""


def write_salesforce(folder: Path, plan_name: str, table: pd.DataFrame, territories: pd.DataFrame, *,
                     draft: bool = False, plan_hash: str = "", escape=None, quotas: pd.DataFrame | None = None,
                     quota_start: str | None = None) -> list[Path]:
    """Write the Data Loader CSVs (with quotas, ForecastingQuota.csv too) and README.txt; return the paths."""
    folder.mkdir(parents=True, exist_ok=True)
    tables = salesforce_tables(plan_name, table, territories, draft=draft, plan_hash=plan_hash, quotas=quotas,
                               quota_start=quota_start)
    paths = []
    for name, frame in tables.items():
        path = folder / name
        out = escape(frame) if escape is not None else frame
        write_csv(out, path, escape=False)  # BOM, CR LF, fields with line breaks quoted
        paths.append(path)
    levels = tables["Territory2.csv"]["Level"].value_counts()
    banner = (
        "*** DRAFT: this plan is NOT approved. Do not load these files into production. ***\n\n"
        if draft else ""
    )
    readme = README.format(
        banner=banner,
        plan_name=plan_name,
        plan_hash=plan_hash,
        status="DRAFT (not approved)" if draft else "approved",
        n_territory2=len(tables["Territory2.csv"]),
        n_areas=int(levels.get("area", 0)),
        n_regions=int(levels.get("region", 0)),
        n_leaves=int(levels.get("territory", 0)),
        n_users=len(tables["UserTerritory2Association.csv"]),
        n_objects=len(tables["ObjectTerritory2Association.csv"]),
        territory_type=TERRITORY_TYPE,
        rep_role=REP_ROLE,
        quota_line=(f"  ForecastingQuota.csv              {len(tables['ForecastingQuota.csv'])} territory quotas "
                    "(rep, amount, start date)\n" if "ForecastingQuota.csv" in tables else ""),
        quota_steps=(_QUOTA_STEPS.format(quota_start=tables["ForecastingQuota.csv"]["StartDate"].iloc[0]
                                         if len(tables["ForecastingQuota.csv"]) else "-")
                     if "ForecastingQuota.csv" in tables else ""),
    )
    path = folder / "README.txt"
    path.write_text(readme, encoding="utf-8")
    paths.append(path)
    return paths
