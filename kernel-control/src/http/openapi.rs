//! The OpenAPI 3 description of every endpoint, so that tools and agents
//! can drive the control surface.

use serde_json::{Value, json};

fn ok(description: &str, schema: Value) -> Value {
    json!({ "description": description, "content": { "application/json": { "schema": schema } } })
}

fn reference(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn error(description: &str) -> Value {
    ok(description, reference("Error"))
}

fn path_param(name: &str, description: &str) -> Value {
    json!({ "name": name, "in": "path", "required": true, "description": description, "schema": { "type": "string" } })
}

/// Responses every modifying call can give.
fn modifying(mut responses: serde_json::Map<String, Value>) -> Value {
    responses.insert(
        "401".into(),
        error("missing or wrong `Authorization: Bearer <token>`; nothing changed"),
    );
    responses.insert("404".into(), error("unknown server or connection id"));
    responses.insert(
        "409".into(),
        error("refused by a wiring rule, a type check or the state table; nothing changed"),
    );
    Value::Object(responses)
}

/// Responses every modifying call of the Hostess can give.
fn hostess_modifying(mut responses: serde_json::Map<String, Value>) -> Value {
    responses.insert(
        "401".into(),
        hostess_error(
            "neither `Authorization: Bearer <token>` nor a valid peer signature; nothing changed",
        ),
    );
    Value::Object(responses)
}

fn hostess_error(description: &str) -> Value {
    ok(description, reference("HostessError"))
}

/// The Hostess's paths, mounted under `/api/v1/hostess` (see
/// [`kernel_hostess::http`]).
fn hostess_paths() -> serde_json::Map<String, Value> {
    let id = path_param("id", "reservation id");
    let uuid = path_param("uuid", "guest (server) uuid, hyphenated");
    let auth = json!([{ "bearer": [] }, { "peer": [] }]);
    let paths = json!({
        "/api/v1/hostess/guests": { "get": {
            "summary": "Guests (registered servers) matching a mask, in a stable order (host name, server name, uuid), with the use of each terminal",
            "operationId": "hostessGuests",
            "parameters": [
                { "name": "mask", "in": "query", "required": false, "schema": { "type": "string", "example": "*:*:0x00000a00/0x0000ff00:ops:*:*:*" },
                  "description": "guest mask `fqdn:servername:class:owner:authFlag:authMechanism:uuid`, each field a glob, the class also `value/mask`; default every guest" },
                { "name": "count", "in": "query", "required": false, "schema": { "type": "integer", "minimum": 0 },
                  "description": "exactly this many guests (the first ones), or 409 saying how many match" }
            ],
            "responses": {
                "200": ok("the guests", reference("Guests")),
                "400": hostess_error("bad mask, count or query parameter"),
                "409": hostess_error("fewer guests match than `count`")
            }
        }},
        "/api/v1/hostess/guests/{uuid}": { "get": {
            "summary": "One guest and the use of its terminals",
            "operationId": "hostessGuest",
            "parameters": [uuid],
            "responses": {
                "200": ok("the guest", reference("Guest")),
                "400": hostess_error("not a uuid"),
                "404": hostess_error("no guest has this uuid")
            }
        }},
        "/api/v1/hostess/menu": { "get": {
            "summary": "Availability by class and owner, as shared with peer kernels",
            "operationId": "hostessMenu",
            "responses": { "200": ok("the menu", reference("Menu")) }
        }},
        "/api/v1/hostess/reservations": {
            "get": {
                "summary": "Live reservations, oldest first",
                "operationId": "hostessReservations",
                "responses": { "200": ok("reservations", json!({ "type": "object", "properties": {
                    "reservations": { "type": "array", "items": reference("Reservation") } } })) }
            },
            "post": {
                "summary": "Reserve terminals (`terminals`) or book guests by masks and counts (`wants`), all or nothing, under a lease that expires unless renewed",
                "operationId": "hostessReserve",
                "security": auth.clone(),
                "requestBody": { "required": true, "content": { "application/json": { "schema": reference("ReserveRequest") } } },
                "responses": hostess_modifying(serde_json::Map::from_iter([
                    ("201".to_string(), ok("reserved", reference("Reservation"))),
                    ("400".to_string(), hostess_error("malformed body, mask, uuid, TTL or holder; unknown terminals")),
                    ("409".to_string(), hostess_error("terminals taken or too few guests free; nothing was reserved")),
                    ("413".to_string(), error("body larger than 64 KiB")),
                ]))
            }
        },
        "/api/v1/hostess/reservations/{id}": {
            "get": {
                "summary": "One live reservation",
                "operationId": "hostessReservation",
                "parameters": [id.clone()],
                "responses": {
                    "200": ok("the reservation", reference("Reservation")),
                    "400": hostess_error("not a reservation id"),
                    "404": hostess_error("unknown reservation"),
                    "410": hostess_error("expired or released")
                }
            },
            "delete": {
                "summary": "Release a reservation and free its terminals",
                "operationId": "hostessRelease",
                "parameters": [id.clone()],
                "security": auth.clone(),
                "responses": hostess_modifying(serde_json::Map::from_iter([
                    ("200".to_string(), ok("released", reference("Reservation"))),
                    ("400".to_string(), hostess_error("not a reservation id")),
                    ("403".to_string(), hostess_error("a peer may release only its own reservations")),
                    ("404".to_string(), hostess_error("unknown reservation")),
                    ("410".to_string(), hostess_error("expired or already released")),
                ]))
            }
        },
        "/api/v1/hostess/reservations/{id}/renew": { "post": {
            "summary": "Renew a lease: its deadline becomes now + TTL",
            "operationId": "hostessRenew",
            "parameters": [id],
            "security": auth,
            "responses": hostess_modifying(serde_json::Map::from_iter([
                ("200".to_string(), ok("renewed", reference("Reservation"))),
                ("400".to_string(), hostess_error("not a reservation id")),
                ("403".to_string(), hostess_error("a peer may renew only its own reservations")),
                ("404".to_string(), hostess_error("unknown reservation")),
                ("410".to_string(), hostess_error("expired or released: it cannot be renewed")),
            ]))
        }}
    });
    match paths {
        Value::Object(map) => map,
        _ => serde_json::Map::new(),
    }
}

/// Schemas of the Hostess's JSON shapes.
fn hostess_schemas() -> serde_json::Map<String, Value> {
    let string = json!({ "type": "string" });
    let schemas = json!({
        "HostessError": { "type": "object", "required": ["error"], "properties": {
            "error": string,
            "wanted": { "type": "integer", "description": "409 on too few guests: how many were wanted" },
            "found": { "type": "integer", "description": "how many match the mask" },
            "free": { "type": "integer", "description": "how many of them have the wanted terminals free" } } },
        "GuestTerminal": { "type": "object", "required": ["name", "kind", "message_type", "state"], "properties": {
            "name": string, "kind": { "type": "string", "enum": ["input", "output", "multiplex", "combine"] },
            "message_type": string, "state": { "type": "string", "enum": ["free", "reserved", "in_use"] },
            "reservation": string, "token": { "type": "integer", "description": "fencing token of the holding reservation" },
            "holder": string,
            "connectome": { "type": "array", "items": string, "description": "connectome ids (pipe ids) it is connected under" } } },
        "Guest": { "type": "object", "required": ["identity", "uuid", "terminals"], "properties": {
            "identity": { "type": "string", "description": "`fqdn:servername:classHex:owner:authFlag:authMechanism:uuid`" },
            "fqdn": string, "server": string, "class": { "type": "string", "example": "0x00000a01" }, "owner": string,
            "auth": { "type": "string", "enum": ["yes", "no", "optional"] }, "auth_mechanism": string, "uuid": string,
            "terminals": { "type": "array", "items": reference("GuestTerminal") } } },
        "Guests": { "type": "object", "properties": { "guests": { "type": "array", "items": reference("Guest") } } },
        "Menu": { "type": "object", "properties": { "entries": { "type": "array", "items": { "type": "object", "properties": {
            "class": string, "owner": string, "guests": { "type": "integer" }, "free_guests": { "type": "integer" },
            "terminals": { "type": "integer" }, "free_terminals": { "type": "integer" } } } } } },
        "TerminalRef": { "type": "object", "required": ["guest", "terminal"], "additionalProperties": false, "properties": {
            "guest": { "type": "string", "description": "guest uuid" }, "terminal": string } },
        "ReserveRequest": { "type": "object", "additionalProperties": false,
            "description": "either `terminals` or `wants`",
            "properties": {
                "holder": { "type": "string", "description": "local calls; a peer's reservations are held by `peer:<name>`" },
                "ttl_ms": { "type": "integer", "minimum": 0, "description": "lease TTL, default 10000" },
                "terminals": { "type": "array", "items": reference("TerminalRef") },
                "wants": { "type": "array", "items": { "type": "object", "required": ["mask", "count"], "additionalProperties": false, "properties": {
                    "mask": string, "count": { "type": "integer", "minimum": 0 },
                    "terminals": { "type": "array", "items": string, "description": "empty or absent: all of each guest's terminals" } } } } } },
        "Reservation": { "type": "object", "required": ["id", "token", "holder", "terminals"], "properties": {
            "id": string, "token": { "type": "integer", "description": "fencing token, strictly increasing" }, "holder": string,
            "terminals": { "type": "array", "items": reference("TerminalRef") },
            "ttl_ms": { "type": "integer" }, "expires_in_ms": { "type": "integer" },
            "picks": { "type": "array", "description": "for a booking by wants: the guests picked for each want",
                "items": { "type": "array", "items": { "type": "object", "properties": {
                    "identity": string, "terminals": { "type": "array", "items": string } } } } } } }
    });
    match schemas {
        Value::Object(map) => map,
        _ => serde_json::Map::new(),
    }
}

/// The document served at `/api/v1/openapi.json`.
pub fn openapi() -> Value {
    let mut doc = control_openapi();
    if let Some(paths) = doc["paths"].as_object_mut() {
        paths.extend(hostess_paths());
    }
    if let Some(schemas) = doc["components"]["schemas"].as_object_mut() {
        schemas.extend(hostess_schemas());
    }
    if let Some(schemes) = doc["components"]["securitySchemes"].as_object_mut() {
        schemes.insert(
            "peer".into(),
            json!({ "type": "apiKey", "in": "header", "name": kernel_hostess::phone::HEADER_SIGNATURE,
                "description": "phone call from a peer kernel: `x-hostess-peer`, `x-hostess-timestamp`, `x-hostess-nonce` and this HMAC-SHA256 signature over the request (Hostess calls only)" }),
        );
    }
    doc
}

fn control_openapi() -> Value {
    let id = path_param("id", "connection id (a UUID)");
    let name = path_param("name", "server instance name");
    let bearer = json!([{ "bearer": [] }]);
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "kernel control surface",
            "version": "1",
            "description": "Query and modify a statically wired pipeline kernel at run time: topology, servers, connections (pipes) with their states, rates and queues, the transition log, metrics. Modifying calls need `Authorization: Bearer <token>` (the token is printed by the kernel or written to an owner-only file). The Hostess (guests, terminals, reservations) is under `/api/v1/hostess/`; its modifying calls take the same token or a peer kernel's signature."
        },
        "servers": [{ "url": "/" }],
        "paths": {
            "/": { "get": {
                "summary": "HMI page: the live topology drawn as SVG, updated from the event stream",
                "operationId": "hmi",
                "responses": { "200": { "description": "HTML page", "content": { "text/html": {} } } }
            }},
            "/metrics": { "get": {
                "summary": "Metrics in the Prometheus (OpenMetrics) text format",
                "operationId": "prometheusMetrics",
                "responses": { "200": { "description": "metrics", "content": { "application/openmetrics-text": {} } } }
            }},
            "/api/v1/openapi.json": { "get": {
                "summary": "This document",
                "operationId": "openapi",
                "responses": { "200": ok("OpenAPI 3 document", json!({ "type": "object" })) }
            }},
            "/api/v1/topology": { "get": {
                "summary": "The live topology: JSON, Graphviz DOT, Mermaid, wiring.toml (export) or SVG",
                "operationId": "topology",
                "parameters": [{ "name": "format", "in": "query", "required": false,
                    "schema": { "type": "string", "enum": ["json", "dot", "mermaid", "toml", "svg"], "default": "json" } }],
                "responses": {
                    "200": { "description": "the topology", "content": {
                        "application/json": { "schema": reference("Topology") },
                        "text/vnd.graphviz": {}, "text/plain": {}, "application/toml": {}, "image/svg+xml": {} } },
                    "400": error("unknown format")
                }
            }},
            "/api/v1/servers": { "get": {
                "summary": "Every server instance with its state and terminals",
                "operationId": "listServers",
                "responses": { "200": ok("servers", json!({ "type": "array", "items": reference("Server") })) }
            }},
            "/api/v1/servers/{name}": { "get": {
                "summary": "One server instance",
                "operationId": "getServer",
                "parameters": [name.clone()],
                "responses": { "200": ok("the server", reference("Server")), "404": error("unknown server") }
            }},
            "/api/v1/processes": { "get": {
                "summary": "Every external process the executor supervises, with its state and pid",
                "operationId": "listProcesses",
                "responses": { "200": ok("processes", json!({ "type": "array", "items": reference("Process") })) }
            }},
            "/api/v1/processes/{name}": { "get": {
                "summary": "One external process",
                "operationId": "getProcess",
                "parameters": [name.clone()],
                "responses": { "200": ok("the process", reference("Process")), "404": error("unknown process") }
            }},
            "/api/v1/probe": { "get": {
                "summary": "The beacon: its listeners, the ports it skipped, the last probe report (candidates and address/port matrix) and the verified candidates, best first",
                "operationId": "getProbe",
                "responses": { "200": ok("the beacon, or `{\"beacon\": null}` without one", json!({ "type": "object", "properties": {
                    "beacon": { "type": "object", "nullable": true, "properties": {
                        "primary": { "type": "string" },
                        "listeners": { "type": "array", "items": { "type": "object" } },
                        "skipped": { "type": "array", "items": { "type": "object" } },
                        "candidates": { "type": "array", "items": reference("Candidate") },
                        "candidates_saved_at_ms": { "type": "integer", "nullable": true },
                        "report": { "type": "object", "nullable": true } } } } })) }
            }},
            "/api/v1/neighbours": { "get": {
                "summary": "Peer kernels heard from by capability adverts, until their TTL runs out (TTL 0: gone at once)",
                "operationId": "listNeighbours",
                "responses": { "200": ok("the neighbour table", json!({ "type": "object", "properties": {
                    "adverts": { "type": "string", "nullable": true, "description": "where this kernel listens for adverts; null when it sends none" },
                    "neighbours": { "type": "array", "items": reference("Neighbour") } } })) }
            }},
            "/api/v1/servers/{name}/restart": { "post": {
                "summary": "Restart a server: it sees `stopping`, its inputs end, then it is built afresh and keeps its pipes",
                "operationId": "restartServer",
                "parameters": [name.clone()],
                "security": bearer.clone(),
                "responses": modifying(serde_json::Map::from_iter([
                    ("202".to_string(), ok("restart requested", reference("Server")))
                ]))
            }},
            "/api/v1/servers/{name}/stop": { "post": {
                "summary": "Stop a server for good; the streams it feeds end",
                "operationId": "stopServer",
                "parameters": [name],
                "security": bearer.clone(),
                "responses": modifying(serde_json::Map::from_iter([
                    ("202".to_string(), ok("stop requested", reference("Server")))
                ]))
            }},
            "/api/v1/connections": {
                "get": {
                    "summary": "Every connection with state, rate, queue, counters",
                    "operationId": "listConnections",
                    "responses": { "200": ok("connections", json!({ "type": "array", "items": reference("Connection") })) }
                },
                "post": {
                    "summary": "Connect a producer terminal to a consumer terminal (same message type, direction and fan rules as the build-time lint)",
                    "operationId": "connect",
                    "security": bearer.clone(),
                    "requestBody": { "required": true, "content": { "application/json": { "schema": reference("ConnectRequest") } } },
                    "responses": modifying(serde_json::Map::from_iter([
                        ("201".to_string(), ok("connected", reference("Connection"))),
                        ("400".to_string(), error("malformed JSON or endpoint, capacity out of range")),
                        ("413".to_string(), error("body larger than 64 KiB")),
                    ]))
                }
            },
            "/api/v1/connections/{id}": {
                "get": {
                    "summary": "One connection",
                    "operationId": "getConnection",
                    "parameters": [id.clone()],
                    "responses": { "200": ok("the connection", reference("Connection")), "404": error("unknown connection") }
                },
                "delete": {
                    "summary": "Disconnect: the producer stops feeding the pipe; queued messages are delivered (drain) or discarded and counted as drops (drop)",
                    "operationId": "disconnect",
                    "parameters": [id.clone(), { "name": "mode", "in": "query", "required": false,
                        "schema": { "type": "string", "enum": ["drain", "drop"], "default": "drain" } }],
                    "security": bearer.clone(),
                    "responses": modifying(serde_json::Map::from_iter([
                        ("200".to_string(), ok("disconnecting", reference("Disconnected"))),
                        ("400".to_string(), error("unknown mode")),
                    ]))
                }
            },
            "/api/v1/connections/{id}/pause": { "post": {
                "summary": "Pause a connection: the consumer takes nothing out, messages stay queued",
                "operationId": "pauseConnection",
                "parameters": [id.clone()],
                "security": bearer.clone(),
                "responses": modifying(serde_json::Map::from_iter([
                    ("200".to_string(), ok("paused", reference("Connection")))
                ]))
            }},
            "/api/v1/connections/{id}/resume": { "post": {
                "summary": "Resume a paused connection",
                "operationId": "resumeConnection",
                "parameters": [id],
                "security": bearer,
                "responses": modifying(serde_json::Map::from_iter([
                    ("200".to_string(), ok("resumed", reference("Connection")))
                ]))
            }},
            "/api/v1/events": { "get": {
                "summary": "Server-sent events: `transition` for every state change, `tick` with rates and states every second, `missed` when the bounded log forgot events; `?format=json` for the log as JSON",
                "operationId": "events",
                "parameters": [
                    { "name": "since", "in": "query", "required": false, "schema": { "type": "integer", "minimum": 0 }, "description": "only events after this sequence number (also `Last-Event-ID`)" },
                    { "name": "format", "in": "query", "required": false, "schema": { "type": "string", "enum": ["sse", "json"], "default": "sse" } }
                ],
                "responses": { "200": { "description": "event stream", "content": {
                    "text/event-stream": { "schema": reference("Event") },
                    "application/json": { "schema": { "type": "object", "properties": {
                        "missed": { "type": "integer" }, "events": { "type": "array", "items": reference("Event") } } } } } } }
            }},
            "/api/v1/metrics": { "get": {
                "summary": "Metrics as JSON: per connection counters, queue, rate; per server state and restarts; event counts",
                "operationId": "metrics",
                "responses": { "200": ok("metrics", json!({ "type": "object" })) }
            }}
        },
        "components": {
            "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer" } },
            "schemas": {
                "Error": { "type": "object", "required": ["error", "status"], "properties": {
                    "error": { "type": "string" }, "status": { "type": "integer" } } },
                "ConnectRequest": { "type": "object", "required": ["from", "to"], "additionalProperties": false, "properties": {
                    "from": { "type": "string", "example": "column.cuts", "description": "producer terminal `server.terminal`" },
                    "to": { "type": "string", "example": "alarm.cuts", "description": "consumer terminal `server.terminal`" },
                    "capacity": { "type": "integer", "minimum": 1, "maximum": 1048576, "default": 1024 } } },
                "Disconnected": { "type": "object", "properties": {
                    "id": { "type": "string" }, "state": { "type": "string", "enum": ["draining", "closed"] },
                    "queued": { "type": "integer" }, "dropped": { "type": "integer" } } },
                "Terminal": { "type": "object", "properties": {
                    "name": { "type": "string" }, "kind": { "type": "string", "enum": ["input", "output", "multiplex", "combine"] },
                    "message_type": { "type": "string" }, "doc": { "type": "string" }, "peers": { "type": "integer" },
                    "booking": { "type": "string", "enum": ["free", "reserved", "in_use"], "nullable": true,
                        "description": "the terminal's use as the Hostess books it; null when the Hostess does not know it" },
                    "connectome": { "type": "array", "items": { "type": "string" },
                        "description": "connectome ids (pipe ids) the Hostess has the terminal booked under" } } },
                "Server": { "type": "object", "properties": {
                    "name": { "type": "string" }, "type_path": { "type": "string" }, "uuid": { "type": "string" },
                    "identity": { "type": "string" },
                    "guest": { "type": "string", "nullable": true,
                        "description": "the guest identity the Hostess has registered for the server's uuid; null when not a registered guest" },
                    "state": { "type": "string", "enum": ["booting", "running", "finished", "failed", "restarting", "stopped"] },
                    "restart": { "type": "string", "enum": ["never", "on-failure", "always"] },
                    "restarts": { "type": "integer" }, "last_error": { "type": "string", "nullable": true },
                    "terminals": { "type": "array", "items": reference("Terminal") },
                    "config": { "type": "string", "nullable": true } } },
                "Process": { "type": "object", "properties": {
                    "name": { "type": "string" }, "command": { "type": "string" },
                    "args": { "type": "array", "items": { "type": "string" } },
                    "restart": { "type": "string", "enum": ["never", "on-failure", "always"] },
                    "state": { "type": "string", "enum": ["booting", "running", "finished", "failed", "restarting", "stopped"] },
                    "pid": { "type": "integer", "nullable": true }, "restarts": { "type": "integer" },
                    "last_exit": { "type": "string", "nullable": true,
                        "description": "how the last run ended: `exited with status N`, `killed by signal N`, `cannot start ...`" } } },
                "Candidate": { "type": "object", "properties": {
                    "proto": { "type": "string", "enum": ["tcp", "udp"] }, "addr": { "type": "string" },
                    "priority": { "type": "integer", "description": "ICE-like (RFC 8445): higher is tried first" },
                    "verified_at_ms": { "type": "integer" } } },
                "Neighbour": { "type": "object", "properties": {
                    "identity": { "type": "string" }, "ttl_s": { "type": "integer" }, "sequence": { "type": "integer" },
                    "control": { "type": "string", "nullable": true },
                    "classes": { "type": "array", "items": { "type": "string" } },
                    "candidates": { "type": "array", "items": reference("Candidate") },
                    "source": { "type": "string" }, "first_seen_ms": { "type": "integer" },
                    "last_seen_ms": { "type": "integer" }, "expires_in_s": { "type": "integer" } } },
                "Connection": { "type": "object", "properties": {
                    "id": { "type": "string" }, "from": { "type": "string" }, "to": { "type": "string" },
                    "from_kind": { "type": "string" }, "to_kind": { "type": "string" }, "message_type": { "type": "string" },
                    "state": { "type": "string", "enum": ["planned", "reserved", "connected", "paused", "draining", "closed", "failed"] },
                    "capacity": { "type": "integer" }, "messages_in": { "type": "integer" }, "messages_out": { "type": "integer" },
                    "queue_depth": { "type": "integer" }, "fill": { "type": "number" }, "rate": { "type": "number" },
                    "blocked_ns": { "type": "integer" }, "drops": { "type": "integer" }, "live": { "type": "boolean" },
                    "fan_out": { "type": "boolean" }, "fan_in": { "type": "boolean" } } },
                "Topology": { "type": "object", "properties": {
                    "kernel": { "type": "object", "properties": {
                        "name": { "type": "string" }, "fqdn": { "type": "string" }, "owner": { "type": "string" },
                        "control_listen": { "type": "string", "nullable": true },
                        "uptime_s": { "type": "number" }, "stopping": { "type": "boolean" } } },
                    "servers": { "type": "array", "items": reference("Server") },
                    "connections": { "type": "array", "items": reference("Connection") },
                    "processes": { "type": "array", "items": reference("Process") } } },
                "Event": { "type": "object", "properties": {
                    "seq": { "type": "integer" }, "at_ms": { "type": "integer" },
                    "subject": { "type": "string", "enum": ["server", "connection", "process"] }, "id": { "type": "string" },
                    "label": { "type": "string" }, "from": { "type": "string" }, "to": { "type": "string" },
                    "cause": { "type": "string",
                        "description": "why; when `from` equals `to` the event is a line a process wrote: `stdout: ...` or `stderr: ...`" } } }
            }
        }
    })
}
