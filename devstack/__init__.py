"""The embedded stack `make run` starts (`sms-addon dev`) and its demo seed; production
code never imports this package."""
