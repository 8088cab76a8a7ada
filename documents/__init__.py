"""Documents the service hands to people: receipts as PDF, in the account's language."""
