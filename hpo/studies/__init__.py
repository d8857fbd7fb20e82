"""Study-level flows: create, account for the budget, choose samplers and pruners."""
