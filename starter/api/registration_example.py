"""A complete A2P 10DLC registration body: every field, optional ones included.

Shown in the OpenAPI schema of the registration body and in docs/api.md, so a
newcomer starts from a body the API accepts (tests/test_docs.py).
"""

from __future__ import annotations

from typing import Any

EXAMPLE_REGISTRATION: dict[str, Any] = {
    "brand": {
        "legal_name": "Acme Corporation",
        "entity_type": "private_profit",
        "tax_id": "12-3456789",
        "website": "https://acme.example",
        "vertical": "retail",
        "contact_email": "compliance@acme.example",
        "contact_phone": "+14155550100",
        "address": {
            "street": "1 Market St",
            "city": "San Francisco",
            "state": "CA",
            "postal_code": "94105",
            "country": "US",
        },
    },
    "campaign": {
        "use_case": "marketing",
        "description": "Weekly promotions and flash sales for customers who opted in at checkout.",
        "sample_messages": [
            "Acme: 20% off everything until midnight! Reply STOP to opt out.",
            "Acme: your member coupon SAVE10 expires Friday. Reply HELP for help, STOP to stop.",
        ],
        "opt_in_description": "Customers tick an unchecked SMS consent box at checkout.",
        "opt_out_keywords": ["STOP", "UNSUBSCRIBE"],
        "help_keywords": ["HELP", "INFO"],
        "help_message": "Acme: help at acme.example/help or +14155550100. Reply STOP to opt out.",
        "embedded_links": True,
        "embedded_phone": False,
    },
}
