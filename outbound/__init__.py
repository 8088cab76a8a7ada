"""Calls out to customers' systems (webhooks): the address policy and the signed POST."""
