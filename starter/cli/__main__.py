"""`python -m starter.cli`: the same as the `sms-addon` command."""

from starter.cli import main

main()
