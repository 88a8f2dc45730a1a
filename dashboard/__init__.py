"""The live sales dashboard: what a merchant watches, and steers, during the rush."""
