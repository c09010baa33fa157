"""Cost: the dated price snapshot, the offer-file reader that rebuilds it, and the monthly estimate (docs/cost.md)."""
