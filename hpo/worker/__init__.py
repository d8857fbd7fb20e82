"""The worker flow: claim -> suggest -> train (report, prune, checkpoint) -> tell."""
