"""Payment gateways: the interface a real provider implements, and the sandbox."""
