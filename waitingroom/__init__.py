"""The waiting room: a live queue for shoppers the rate limiter turns away."""
