"""Returns: one organisation's answers to one campaign, from first save to frozen submission."""
