"""Rehearse a sale: a crowd of real shoppers against any Flux-Gate address, judged.

    manage.py rehearse           the edge: flags -> rehearsal.run.rehearse()
    rehearsal/plan.py            the plan (profiles, chaos, thresholds): pure, no Django
    rehearsal/locustfile.py      the crowd, a Locust scenario (local, or a master and workers)
    rehearsal/run.py             the sale, the crowd's processes, the chaos, the books
    rehearsal/verdicts.py        pass or fail, each with its figure: pure
    rehearsal/report.py          the HTML report (uPlot charts) and its JSON

README, "Rehearse a sale" and "Chaos demo", says how to use it.
"""
