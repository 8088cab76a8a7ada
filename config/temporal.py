"""The Temporal client: connection from ``temporalio.envconfig`` and our search attributes."""

from __future__ import annotations

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.envconfig import ClientConfig
from temporalio.runtime import Runtime
from temporalio.service import RPCError, RPCStatusCode

from config.settings import Settings
from observability import tracing
from workflows import search_attributes


async def connect(settings: Settings, runtime: Runtime | None = None) -> Client:
    """Connect with TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE / TLS / API-key profiles
    (``temporalio.envconfig``), defaulting to the embedded dev server."""
    connect_config = ClientConfig.load_client_connect_config()
    connect_config.setdefault("target_host", settings.temporal_address)
    return await Client.connect(
        **connect_config,
        data_converter=pydantic_data_converter,
        interceptors=tracing.temporal_interceptors(),
        runtime=runtime,
    )


def operator_command(namespace: str) -> str:
    flags = " ".join(f"--name {key.name} --type Keyword" for key in search_attributes.ALL)
    return f"temporal operator search-attribute create --namespace {namespace} {flags}"


async def ensure_search_attributes(client: Client) -> str | None:
    """Register the custom search attributes where the server allows it.

    Returns ``None`` when they are all there, else one line saying exactly what
    an operator must run (Temporal Cloud refuses this call from a worker).
    """
    wanted = {key.name for key in search_attributes.ALL}
    try:
        missing = wanted - await _registered(client)
        if missing:
            await client.operator_service.add_search_attributes(
                AddSearchAttributesRequest(
                    namespace=client.namespace,
                    search_attributes={
                        name: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD for name in missing
                    },
                )
            )
    except RPCError as exc:
        if exc.status != RPCStatusCode.ALREADY_EXISTS:
            return (
                f"Could not register search attributes ({exc.message}); "
                f"an operator must run: {operator_command(client.namespace)}"
            )
    return None


async def _registered(client: Client) -> set[str]:
    """Names already registered; empty where the server cannot list them (the
    time-skipping test server can add but not list)."""
    try:
        listed = await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace=client.namespace)
        )
    except RPCError as exc:
        if exc.status == RPCStatusCode.UNIMPLEMENTED:
            return set()
        raise
    return set(listed.custom_attributes)
