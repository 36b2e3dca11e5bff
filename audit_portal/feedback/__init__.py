"""Feedback letters: the partnership writes back to each organisation about its return."""
