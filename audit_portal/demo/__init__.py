"""The demo partnership: a fictional county in the middle of its audit cycle.

``county`` invents the organisations and intelligence (pure, seeded), ``answers`` invents a
believable return for one organisation (pure, seeded), and ``seed`` writes them with bulk inserts
in the same rows the portal's own code writes.
"""
