"""The OpenAPI 3.1 document of the server's HTTP API (served at /openapi.json)."""

from __future__ import annotations

from typing import Any

_ERROR = {"$ref": "#/components/schemas/Error"}


def _json(schema: Any, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*statuses: int) -> dict[str, Any]:
    words = {400: "bad request (usage, invalid input, bad JSON)", 403: "the key may not do this",
             404: "not found", 405: "wrong kind of command for this endpoint", 409: "the log moved on: retry",
             413: "body too large", 422: "refused by the rules", 429: "too many writes", 503: "database unavailable"}
    return {str(s): _json(_ERROR, words[s]) for s in statuses}


NOTES = {"Ledger-Notes": {"description": "What the command printed on stderr besides an error (a note such as "
                                         "'keep the receipt code'), as a JSON string; absent when nothing.",
                          "schema": {"type": "string"}}}


def _noted(response: dict[str, Any]) -> dict[str, Any]:
    return {**response, "headers": NOTES}


def _binary(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}


WRITE_BODY = {
    "type": "object", "additionalProperties": False, "required": ["argv", "key"],
    "properties": {
        "argv": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 200,
                 "description": "The command's words and options, as on the command line without 'ledger' "
                                "and without --key (e.g. [\"motion\", \"vote\", \"M-3\", \"yes\"])."},
        "key": {"type": "string", "pattern": "^[0-9a-f]{64}$", "description": "The signer's key id."},
        "at": {"type": "string", "description": "The time the server returned when preparing (submit: required)."},
        "signatures": {"type": "object", "additionalProperties": {"type": "string"},
                       "description": "Message SHA-256 (hex) to base64 Ed25519 signature."},
        "files": {"type": "object", "additionalProperties": {"type": "string"}, "maxProperties": 8,
                  "description": "Files the command names, by plain name, base64."},
        "sealed": {"type": "array", "items": {"type": "string"}, "maxItems": 8,
                   "description": "The age files the prepared run sealed (base64), given back as prepared."},
        "codes": {"type": "array", "items": {"type": "string"}, "maxItems": 8,
                  "description": "The receipt codes the prepared run drew, given back as prepared."},
        "event_hashes": {"type": "array", "items": {"type": "string"},
                         "description": "Submit: the signed records' hashes (a retry of a recorded command "
                                        "is acknowledged again instead of applied twice)."},
    },
}

PREPARED = {
    "type": "object", "required": ["at", "key", "records", "sign", "complete"],
    "properties": {
        "at": {"type": "string"}, "key": {"type": "string"}, "complete": {"type": "boolean"},
        "sealed": {"type": "array", "items": {"type": "string"}},
        "codes": {"type": "array", "items": {"type": "string"}},
        "records": {"type": "array", "items": {"$ref": "#/components/schemas/Wanted"}},
        "sign": {"type": "array", "items": {"$ref": "#/components/schemas/Wanted"}},
    },
}


def document() -> dict[str, Any]:
    from importlib.metadata import version

    return {
        "openapi": "3.1.0",
        "info": {"title": "Covenant ledger server", "version": version("covenant-ledger"),
                 "description": "A signed, append-only governance ledger over HTTP. See docs/server.md."},
        "paths": {
            "/checkpoint": {"get": {"summary": "The latest signed checkpoint (C2SP tlog-checkpoint), with "
                                               "cosignatures", "responses": {
                "200": {"description": "checkpoint", "content": {"text/plain": {"schema": {"type": "string"}}}},
                **_errors(404)}}},
            "/tile/{path}": {"get": {"summary": "A Merkle tile <L>/<N>[.p/<W>] or entry bundle entries/<N>[.p/<W>] "
                                               "(C2SP tlog-tiles v0.1.0)",
                                     "parameters": [{"name": "path", "in": "path", "required": True,
                                                     "schema": {"type": "string"}}],
                                     "responses": {"200": _binary("tile bytes"), **_errors(404)}}},
            "/v1/{command}": {"get": {
                "summary": "A query: command words then arguments as path segments, options as query "
                           "parameters (e.g. /v1/motion/show/M-3?as_of=40); the answer is the command's --json",
                "parameters": [{"name": "command", "in": "path", "required": True, "schema": {"type": "string"}},
                               {"name": "format", "in": "query", "schema": {"enum": ["json", "text"]}}],
                "responses": {"200": _json({}, "the command's JSON (docs/cli.md)"),
                              **_errors(400, 404, 405, 422, 503)}}},
            "/v1/query": {"post": {
                "summary": "A query by argv", "requestBody": {"required": True, "content": {"application/json": {
                    "schema": {"type": "object", "required": ["argv"], "additionalProperties": False,
                               "properties": {"argv": {"type": "array", "items": {"type": "string"}},
                                              "format": {"enum": ["json", "text"]}}}}}},
                "responses": {"200": _noted(_json({}, "the command's JSON")),
                              **_errors(400, 404, 405, 413, 422, 503)}}},
            "/v1/prepare": {"post": {
                "summary": "Apply every rule to an act and return its records and the exact bytes to sign",
                "requestBody": {"required": True, "content": {"application/json": {"schema": WRITE_BODY}}},
                "responses": {"200": _json(PREPARED, "the records and what to sign"),
                              **_errors(400, 403, 404, 405, 409, 413, 422, 429, 503)}}},
            "/v1/submit": {"post": {
                "summary": "Append an act's signed records atomically (409 when the log moved on: prepare again)",
                "requestBody": {"required": True, "content": {"application/json": {"schema": WRITE_BODY}}},
                "responses": {"201": _noted(_json({"type": "object"}, "recorded")),
                              "200": _json({"type": "object"}, "already recorded (a retry)"),
                              **_errors(400, 403, 404, 405, 409, 413, 422, 429, 503)}}},
            "/v1/documents/{digest}": {"get": {"summary": "A kept (public) document by SHA-256",
                                               "parameters": [{"name": "digest", "in": "path", "required": True,
                                                               "schema": {"type": "string"}}],
                                               "responses": {"200": _binary("the document"), **_errors(404)}}},
            "/v1/sealed/{digest}": {"get": {"summary": "A kept sealed (age) file, as ciphertext only",
                                            "parameters": [{"name": "digest", "in": "path", "required": True,
                                                            "schema": {"type": "string"}}],
                                            "responses": {"200": _binary("the age file"), **_errors(400, 404)}}},
            "/v1/bundle": {"get": {"summary": "The log up to the latest checkpoint as an export bundle "
                                              "(docs/format.md §10)",
                                   "responses": {"200": {"description": "bundle", "content": {
                                       "application/x-ndjson": {"schema": {"type": "string"}}}}, **_errors(404)}}},
        },
        "components": {"schemas": {
            "Error": {"type": "object", "required": ["error"], "properties": {"error": {
                "type": "object", "required": ["code", "message"],
                "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}}},
            "Wanted": {"type": "object", "required": ["record", "message", "message_sha256", "final"], "properties": {
                "record": {"type": "object", "description": "the unsigned record (v, ledger, stream, seq, type, "
                                                            "at, actor, prev, data)"},
                "message": {"type": "string", "description": "base64 of the exact bytes to sign"},
                "message_sha256": {"type": "string"}, "final": {"type": "boolean"}}},
        }},
    }
