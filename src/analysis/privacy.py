"""Privacy settings shared by every layer."""

#: Groups, cells and linked-customer sets with fewer respondents than this are never shown.
MIN_CELL = 5
