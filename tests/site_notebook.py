"""A small jupytext notebook with a pgrant header, for the tests of analysis.site's parts
(tests/test_site_page.py, tests/test_site_summary.py)."""

import textwrap


NOTEBOOK = textwrap.dedent('''\
    # ---
    # jupyter:
    #   pgrant:
    #     question: "Does it hold?"
    #     answer: "Yes, at 2.75 MiB."
    #     evidence: [computed, digitized]
    #     data: [raw/seed-thread/memory-claims.csv]
    # ---

    # %% [markdown]
    # # 02 · Ring size: what it costs
    #
    # ## First section

    # %%
    x = 1
    ''')
