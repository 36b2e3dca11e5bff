"""Accounts: people, passwords, sign-in links, second factors, sessions and throttling."""
