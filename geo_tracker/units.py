"""Units of area used in Chinese land administration.

1 亩 (mu) = 10000/15 m²; 1 公顷 (ha) = 15 亩; 1 平方公里 = 1500 亩.
"""

M2_PER_MU = 10000.0 / 15.0
M2_PER_HA = 10000.0
MU_PER_HA = 15.0

#: Multiply an area in the keyed unit by this to get 亩.
TO_MU = {"mu": 1.0, "ha": MU_PER_HA, "m2": 1.0 / M2_PER_MU}

AREA_UNIT_LABELS = {"mu": "亩", "ha": "公顷", "m2": "平方米"}


def m2_to_mu(area_m2):
    """Square metres to 亩 (works on floats and numpy arrays)."""
    return area_m2 / M2_PER_MU


def mu_to_m2(area_mu):
    """亩 to square metres (works on floats and numpy arrays)."""
    return area_mu * M2_PER_MU
