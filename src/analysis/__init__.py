"""Customer-satisfaction survey lab: from raw survey export to evaluated report.

One module per pipeline stage; data flows one way
(notebooks -> ``analysis`` -> libraries):

``survey``      survey definition and wave files (typed, validated)
``ingest``      read raw exports (CSV in any encoding, XLSX, SPSS) and map labels to codes
``clean``       cleaning rules, cleaning log, attrition, privacy
``describe``    item statistics, top-2-box, NPS, satisfaction rate
``reliability`` Cronbach's alpha, omega, item screening
``index``       0-100 satisfaction index and its weights (equal, AHP, entropy, PLS)
``compare``     group comparisons and wave-over-wave change
``drivers``     key-driver analysis (relative weights)
``pls``         PLS path modelling of the CSI/ECSI model
``zones``       satisfaction-loyalty zones, customer types, IPA
``kpis``        KPIs against targets
``publish``     HTML reports
``demo``        the demo survey program (subpackage; ``csat demo``)
``cli``         the ``csat`` command
"""

__version__ = "0.1.0"
