//! The OpenAPI 3.1 description, hand-written as JSON (no utoipa: see docs/API.md), for the
//! whole node (`/openapi.json`) or one service (`getOpenAPI?serviceCode=`).

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use sinergi_exchange::{ClientId, ErrorCode};

use crate::refusal::{ServerCode, refuse};
use crate::services::Kind;
use crate::state::AppState;

fn error_schema() -> Value {
    let mut codes: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.code()).collect();
    codes.extend(ServerCode::ALL.iter().map(|c| c.code()));
    json!({
        "type": "object",
        "required": ["message", "code", "type", "link"],
        "properties": {
            "message": {"type": "string"},
            "code": {"type": "string", "enum": codes},
            "type": {"type": "string", "enum": ["invalid_request", "auth", "agreement", "quota", "system"]},
            "link": {"type": "string"}
        }
    })
}

fn query_schema(kind: Kind) -> Value {
    let mut props = json!({
        "nik": {"type": "string", "pattern": "^[0-9]{16}$"},
        "fields": {"type": "array", "items": {"type": "string", "enum": kind.grantable()},
                   "description": "Values to return; each must be granted by the agreement (FIELD_NOT_GRANTED otherwise)."}
    });
    let extra = match kind {
        Kind::VerifikasiIdentitas => json!({
            "nama": {"type": "string"}, "tgl_lahir": {"type": "string"},
            "jenis_kelamin": {"type": "string", "enum": ["L", "P"]}, "no_kk": {"type": "string"}}),
        Kind::Desil => json!({"desil_maks": {"type": "integer", "minimum": 1, "maximum": 10}}),
        Kind::ValidasiPenerima => json!({
            "nama": {"type": "string"}, "tgl_lahir": {"type": "string"},
            "program": {"type": "string", "enum": ["PKH", "BPNT", "PBI_JK", "BLT_DD"]},
            "kode_wilayah": {"type": "string"}}),
        _ => json!({}),
    };
    if let (Some(p), Some(e)) = (props.as_object_mut(), extra.as_object()) {
        p.extend(e.clone());
    }
    json!({"type": "object", "required": ["nik"], "properties": props})
}

fn xroad_params() -> Value {
    json!([
        {"name": "X-Road-Client", "in": "header", "required": true, "schema": {"type": "string"},
         "description": "INSTANCE/CLASS/CODE/SUBSYSTEM of the caller"},
        {"name": "X-Road-Id", "in": "header", "schema": {"type": "string"}},
        {"name": "X-Road-UserId", "in": "header", "schema": {"type": "string"}},
        {"name": "X-Road-Issue", "in": "header", "schema": {"type": "string"}},
        {"name": "X-Sinergi-Purpose", "in": "header", "required": true, "schema": {"type": "string"},
         "description": "Purpose code listed in the agreement, e.g. VALIDASI_BANSOS"},
        {"name": "X-Sinergi-Pks", "in": "header", "schema": {"type": "string"},
         "description": "The agreement (PKS) id to decide under"},
        {"name": "Signature-Input", "in": "header", "schema": {"type": "string"}},
        {"name": "Signature", "in": "header", "schema": {"type": "string"}},
        {"name": "Content-Digest", "in": "header", "schema": {"type": "string"}}
    ])
}

/// Query parameters of a `-batch` service.
fn batch_params(kind: Kind) -> Vec<Value> {
    if kind == Kind::ValidasiPenerima {
        vec![
            json!({"name": "program", "in": "query", "schema": {"type": "string", "enum": ["PKH", "BPNT", "PBI_JK", "BLT_DD"], "default": "PBI_JK"},
                   "description": "Programme of every line that names none; unknown: the call is refused (SERVICE_NOT_COVERED)"}),
            json!({"name": "kode_wilayah", "in": "query", "schema": {"type": "string"},
                   "description": "Region (village code) the list is for, for every line that names none"}),
        ]
    } else {
        vec![
            json!({"name": "fields", "in": "query", "schema": {"type": "string"},
                   "description": "Comma-separated values to return for every line; each must be granted (FIELD_NOT_GRANTED otherwise)"}),
        ]
    }
}

/// One output line of `validasi-penerima-batch`.
fn validasi_line_schema() -> Value {
    json!({
        "type": "object",
        "required": ["baris"],
        "properties": {
            "baris": {"type": "integer", "minimum": 1,
                      "description": "1-based line number of the input line (blank lines counted, not answered)"},
            "nik": {"type": "string"},
            "program": {"type": "string"},
            "verdict": {"type": "object", "description": "sinergi_rules::Verdict, as validasi-penerima answers it"},
            "sources": {"type": "object", "description": "per registry: ok, or why it could not be asked"},
            "code": {"type": "string", "description": "the line was not validated: REQUEST_INVALID, OUT_OF_REGION, SERVICE_NOT_COVERED"},
            "message": {"type": "string", "description": "why, in Bahasa Indonesia (Accept-Language: en for English)"}
        }
    })
}

fn op(kind: Kind, batch: bool) -> Value {
    let refusals = json!({"description": "Refused", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}});
    let mut parameters = xroad_params();
    if batch && let Some(p) = parameters.as_array_mut() {
        p.extend(batch_params(kind));
    }
    let (req, resp) = if batch {
        let line = if kind == Kind::ValidasiPenerima {
            validasi_line_schema()
        } else {
            json!({"type": "object"})
        };
        (
            json!({"content": {"application/x-ndjson": {"schema": query_schema(kind)}}}),
            json!({"description": "One answer per non-blank input line, in order (NDJSON)",
                   "content": {"application/x-ndjson": {"schema": line}}}),
        )
    } else {
        (
            json!({"content": {"application/json": {"schema": query_schema(kind)}}}),
            json!({"description": "Answer", "content": {"application/json": {"schema": {"type": "object"}}}}),
        )
    };
    json!({
        "post": {
            "summary": kind.description(),
            "parameters": parameters,
            "requestBody": req,
            "security": [{"httpSignature": []}, {"apiToken": []}],
            "responses": {"200": resp, "400": refusals, "401": refusals, "403": refusals,
                          "413": {"description": "REQUEST_TOO_LARGE: the body exceeds the node's max_body_bytes"},
                          "429": refusals, "503": refusals}
        }
    })
}

fn document(st: &AppState, only: Option<(&ClientId, &str)>) -> Value {
    let mut paths = Map::new();
    for h in st.hosted.values() {
        for code in &h.services {
            if let Some((p, c)) = only
                && (p != &h.id || c != code)
            {
                continue;
            }
            if let Some((kind, batch)) = Kind::parse(code) {
                paths.insert(format!("/r1/{}/{}", h.id, code), op(kind, batch));
            }
        }
    }
    if only.is_none() {
        for (path, summary) in [
            (
                "/listClients",
                "X-Road metaservice: members and subsystems known to this node",
            ),
            ("/healthz", "Liveness and index size"),
            ("/metrics", "Prometheus metrics"),
        ] {
            paths.insert(
                path.into(),
                json!({"get": {"summary": summary, "responses": {"200": {"description": "OK"}}}}),
            );
        }
        paths.insert("/admin/pks".into(), json!({
            "get": {"summary": "List agreements (admin token)", "responses": {"200": {"description": "OK"}}},
            "post": {"summary": "Create an agreement (admin token)", "responses": {"201": {"description": "Created"}, "409": {"description": "Exists"}}}
        }));
        paths.insert("/admin/pks/{id}/{action}".into(), json!({
            "post": {"summary": "suspend | reinstate | revoke an agreement (admin token), body {by, reason}",
                     "responses": {"200": {"description": "The agreement after the change"}}}
        }));
        paths.insert("/admin/audit/verify".into(), json!({"get": {"summary": "Verify the audit chain and checkpoints (admin token)", "responses": {"200": {"description": "Report"}}}}));
    }
    json!({
        "openapi": "3.1.0",
        "info": {"title": format!("Sinergi node {}", st.config.node_name), "version": env!("CARGO_PKG_VERSION")},
        "paths": paths,
        "components": {
            "schemas": {"Error": error_schema()},
            "securitySchemes": {
                "httpSignature": {"type": "apiKey", "in": "header", "name": "Signature",
                                  "description": "RFC 9421 Ed25519 signature, Sinergi profile (docs/EXCHANGE.md)"},
                "apiToken": {"type": "http", "scheme": "bearer", "description": "sng_... token of a system inside the provider's agency"}
            }
        }
    })
}

/// `GET /openapi.json`.
pub async fn handler(State(st): State<Arc<AppState>>) -> Json<Value> {
    Json(document(&st, None))
}

/// `getOpenAPI?serviceCode=...` for one provider's service.
pub fn for_service(st: &AppState, provider: &ClientId, code: &str) -> Response {
    let provided = st
        .hosted
        .get(provider)
        .is_some_and(|h| h.services.iter().any(|s| s == code));
    if !provided {
        return refuse(ServerCode::ServiceNotFound, false, None);
    }
    Json(document(st, Some((provider, code)))).into_response()
}
