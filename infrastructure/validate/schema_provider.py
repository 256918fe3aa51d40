"""A schema-only Terraform provider: serves a provider schema over plugin protocol 6.

It answers what `terraform validate` asks a provider (the schema, and the
provider-side validation of each block, which has nothing to add to
Terraform's own schema checks) and nothing else: it cannot plan, apply or
read. Terraform attaches to it through TF_REATTACH_PROVIDERS, so
`terraform init` installs nothing and `terraform validate` checks every
argument, block, type and reference against the real provider's schema.

Started as `schema_provider.py <schema.json> <generated stubs dir>`, it prints
the go-plugin handshake line `1|6|tcp|127.0.0.1:<port>|grpc` on stdout and
serves until terminated or until Terraform asks the plugin to shut down.
The listener is on loopback without TLS: go-plugin's automatic mutual TLS is
negotiated only for plugins Terraform starts itself, and a reattached plugin
is dialled in plain text.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
from concurrent import futures

import grpc

SCHEMA_PATH, STUBS = sys.argv[1], sys.argv[2]
sys.path.insert(0, STUBS)

import tfplugin6_pb2 as pb  # noqa: E402
import tfplugin6_pb2_grpc as pb_grpc  # noqa: E402

BLOCK_NESTING = {
    "single": pb.Schema.NestedBlock.SINGLE,
    "list": pb.Schema.NestedBlock.LIST,
    "set": pb.Schema.NestedBlock.SET,
    "map": pb.Schema.NestedBlock.MAP,
    "group": pb.Schema.NestedBlock.GROUP,
}
OBJECT_NESTING = {
    "single": pb.Schema.Object.SINGLE,
    "list": pb.Schema.Object.LIST,
    "set": pb.Schema.Object.SET,
    "map": pb.Schema.Object.MAP,
}


def attribute(name: str, spec: dict) -> pb.Schema.Attribute:
    message = pb.Schema.Attribute(
        name=name,
        required=bool(spec.get("required")),
        optional=bool(spec.get("optional")),
        computed=bool(spec.get("computed")),
        sensitive=bool(spec.get("sensitive")),
        write_only=bool(spec.get("write_only")),
        deprecated=bool(spec.get("deprecated")),
    )
    if "nested_type" in spec:
        nested = spec["nested_type"]
        message.nested_type.CopyFrom(
            pb.Schema.Object(
                attributes=[attribute(n, s) for n, s in sorted(nested["attributes"].items())],
                nesting=OBJECT_NESTING[nested["nesting_mode"]],
            )
        )
    else:
        message.type = json.dumps(spec["type"]).encode()
    return message


def block(spec: dict) -> pb.Schema.Block:
    return pb.Schema.Block(
        attributes=[attribute(n, s) for n, s in sorted(spec.get("attributes", {}).items())],
        block_types=[
            pb.Schema.NestedBlock(
                type_name=name,
                block=block(nested["block"]),
                nesting=BLOCK_NESTING[nested["nesting_mode"]],
                min_items=nested.get("min_items", 0),
                max_items=nested.get("max_items", 0),
            )
            for name, nested in sorted(spec.get("block_types", {}).items())
        ],
    )


def schema(spec: dict) -> pb.Schema:
    return pb.Schema(version=spec.get("version", 0), block=block(spec["block"]))


class SchemaOnlyProvider(pb_grpc.ProviderServicer):
    def __init__(self, source: dict, stop: threading.Event):
        self.stop = stop
        self.response = pb.GetProviderSchema.Response(
            provider=schema(source["provider"]),
            server_capabilities=pb.ServerCapabilities(get_provider_schema_optional=False),
        )
        for section in ("resource_schemas", "data_source_schemas", "ephemeral_resource_schemas"):
            target = getattr(self.response, section)
            for name, spec in source[section].items():
                target[name].CopyFrom(schema(spec))
        self.metadata = pb.GetMetadata.Response(
            server_capabilities=self.response.server_capabilities,
            resources=[pb.GetMetadata.ResourceMetadata(type_name=n) for n in sorted(source["resource_schemas"])],
            data_sources=[pb.GetMetadata.DataSourceMetadata(type_name=n) for n in sorted(source["data_source_schemas"])],
            ephemeral_resources=[
                pb.GetMetadata.EphemeralMetadata(type_name=n) for n in sorted(source["ephemeral_resource_schemas"])
            ],
        )

    def GetMetadata(self, request, context):
        return self.metadata

    def GetProviderSchema(self, request, context):
        return self.response

    def GetResourceIdentitySchemas(self, request, context):
        return pb.GetResourceIdentitySchemas.Response()

    def GetFunctions(self, request, context):
        return pb.GetFunctions.Response()

    def ValidateProviderConfig(self, request, context):
        return pb.ValidateProviderConfig.Response()

    def ValidateResourceConfig(self, request, context):
        return self.known(request.type_name, "resource_schemas", pb.ValidateResourceConfig.Response)

    def ValidateDataResourceConfig(self, request, context):
        return self.known(request.type_name, "data_source_schemas", pb.ValidateDataResourceConfig.Response)

    def ValidateEphemeralResourceConfig(self, request, context):
        return self.known(request.type_name, "ephemeral_resource_schemas", pb.ValidateEphemeralResourceConfig.Response)

    def StopProvider(self, request, context):
        return pb.StopProvider.Response()

    def known(self, type_name, section, response):
        if type_name in getattr(self.response, section):
            return response()
        return response(
            diagnostics=[pb.Diagnostic(severity=pb.Diagnostic.ERROR, summary=f"unknown type {type_name}")]
        )


def plain_handlers(stop: threading.Event) -> grpc.GenericRpcHandler:
    """go-plugin's own services: health (answers SERVING) and controller shutdown."""

    def health(request, context):
        return b"\x08\x01"  # grpc.health.v1.HealthCheckResponse{status: SERVING}

    def shutdown(request, context):
        stop.set()
        return b""

    identity = lambda data: data  # noqa: E731
    return grpc.method_handlers_generic_handler(
        "grpc.health.v1.Health",
        {"Check": grpc.unary_unary_rpc_method_handler(health, identity, identity)},
    ), grpc.method_handlers_generic_handler(
        "plugin.GRPCController",
        {"Shutdown": grpc.unary_unary_rpc_method_handler(shutdown, identity, identity)},
    )


def main() -> None:
    with open(SCHEMA_PATH, encoding="utf-8") as handle:
        source = json.load(handle)
    stop = threading.Event()
    options = [("grpc.max_send_message_length", 256 << 20), ("grpc.max_receive_message_length", 256 << 20)]
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4), options=options)
    pb_grpc.add_ProviderServicer_to_server(SchemaOnlyProvider(source, stop), server)
    server.add_generic_rpc_handlers(plain_handlers(stop))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    print(f"1|6|tcp|127.0.0.1:{port}|grpc", flush=True)
    stop.wait()
    server.stop(grace=1)


if __name__ == "__main__":
    main()
