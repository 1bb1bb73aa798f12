"""Privacy settings shared by every layer: the one place that says how small a group may be shown.

A count below :data:`MIN_CELL` is never shown, tested or written: group tests
drop such groups before testing, the sample profile merges them (with
complementary suppression), segment tables, trends and charts leave them out,
wave change skips them, and a cross-wave transition table prints ``<5`` instead
of the count. Five is the usual minimum cell size of statistical disclosure
control for frequency tables (the threshold rule; e.g. Hundepool et al. 2012,
*Statistical Disclosure Control*, Wiley, section 5.2).
"""

__all__ = ["MIN_CELL"]

#: Groups, cells and linked-customer sets with fewer respondents than this are never shown.
MIN_CELL = 5
