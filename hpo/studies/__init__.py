"""Study-level flows: create, account for the budget, choose samplers and pruners."""

# What `hpo study create` does when the study exists: fail, or keep it and exit 0. Here, not in
# hpo.studies.create, so the command line can offer the choice without importing torch.
IF_EXISTS = ("fail", "skip")
