"""Tooling of the documentation studies (docs/studies/): reading rules, claims, pages.

Not part of the hpo library: it knows the reference reports 000-004 and their designs.
scripts/run_docs_studies.sh runs the studies and then ``python -m docs.studies.tooling.pages``;
tests/docs_studies/ tests the rules and the pages.
"""
