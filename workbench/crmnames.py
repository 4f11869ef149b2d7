"""Salesforce API names (DeveloperName): valid, and unique ignoring case, for territories, models and quotas.

Used by the Salesforce export (:mod:`workbench.export.salesforce`) and by the quota loads
(:func:`workbench.quota.salesforce_quotas`), so both name a territory alike.
"""

from __future__ import annotations

import re

#: Longest DeveloperName Salesforce accepts.
MAX_DEVELOPER_NAME = 80

_NOT_ALLOWED = re.compile(r"[^A-Za-z0-9]+")


def developer_name(text: str, prefix: str = "X", max_length: int = MAX_DEVELOPER_NAME) -> str:
    """Turn any text into a valid Salesforce API name (DeveloperName).

    Letters, digits and single underscores only; starts with a letter (else
    ``prefix`` and an underscore are put in front); no trailing underscore;
    at most ``max_length`` characters. Accented letters lose their accents.

    Examples
    --------
    >>> developer_name("North-East  / Boston")
    'North_East_Boston'
    >>> developer_name("42nd St"), developer_name("__"), developer_name("Zürich")
    ('X_42nd_St', 'X', 'Zurich')
    >>> len(developer_name("a" * 200))
    80
    """
    import unicodedata

    ascii_text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode("ascii")
    name = _NOT_ALLOWED.sub("_", ascii_text).replace("_", " ").split()
    name = "_".join(name)
    if not name or not name[0].isalpha():
        name = f"{prefix}_{name}" if name else prefix
    return name[:max_length].rstrip("_")


def unique_developer_names(texts, prefix: str = "X") -> list[str]:
    """Valid DeveloperNames for ``texts``, unique ignoring case (as Salesforce compares them).

    A name already taken gets ``_2``, ``_3``... (the base is shortened so
    the result still fits in 80 characters).

    Examples
    --------
    >>> unique_developer_names(["West", "west", "West!", "West_2"])
    ['West', 'west_2', 'West_3', 'West_2_2']
    """
    taken: set[str] = set()
    result = []
    for text in texts:
        base = developer_name(text, prefix)
        name, counter = base, 1
        while name.lower() in taken:
            counter += 1
            suffix = f"_{counter}"
            name = base[: MAX_DEVELOPER_NAME - len(suffix)].rstrip("_") + suffix
        taken.add(name.lower())
        result.append(name)
    return result
