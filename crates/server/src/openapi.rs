//! The OpenAPI 3.1 description, hand-written as JSON (no utoipa: see docs/API.md), for the
//! whole node (`/openapi.json`: every route `app()` serves) or one service
//! (`getOpenAPI?serviceCode=`). A contract test (tests/server/contract.rs) calls every
//! operation, with and without credentials, and checks every answer against this document.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde_json::{Map, Value, json};
use sinergi_exchange::{ClientId, ErrorCode};

use crate::refusal::ServerCode;
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

fn refusal(description: &str) -> Value {
    json!({"description": description,
           "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}})
}

fn ok(description: &str, schema: Value) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": schema}}})
}

fn query_schema(kind: Option<Kind>) -> Value {
    let grantable: Vec<&str> = kind.map(|k| k.grantable().to_vec()).unwrap_or_default();
    let mut props = json!({
        "nik": {"type": "string", "description": "16 digits; anything else is answered nik_valid: false"},
        "fields": {"type": "array", "items": {"type": "string", "enum": grantable},
                   "description": "Values to return; each must be granted by the agreement (FIELD_NOT_GRANTED otherwise)."}
    });
    let extra = match kind {
        Some(Kind::VerifikasiIdentitas) => json!({
            "nama": {"type": "string"}, "tgl_lahir": {"type": "string"},
            "jenis_kelamin": {"type": "string", "enum": ["L", "P"]}, "no_kk": {"type": "string"}}),
        Some(Kind::Desil) => {
            json!({"desil_maks": {"type": "integer", "minimum": 1, "maximum": 10}})
        }
        Some(Kind::ValidasiPenerima) => json!({
            "nik": {"type": "string", "description": "the NIK as the list writes it (may be wrong, empty or not 16 digits: the row is still validated, its person searched by name and birth date)"},
            "nik_terbaca": {"type": "string", "description": "the 16 digits the caller's reader made of the NIK cell, when it did"},
            "no": {"type": ["string", "integer"], "description": "the row's number or id in the list"},
            "no_urut": {"type": "integer", "description": "the row's position, when no is a text id"},
            "nama": {"type": "string"}, "tgl_lahir": {"type": "string"},
            "jenis_kelamin": {"type": "string", "enum": ["L", "P"]},
            "tempat_lahir": {"type": "string"}, "no_kk": {"type": "string"}, "alamat": {"type": "string"},
            "program": {"type": "string", "enum": ["PKH", "BPNT", "PBI_JK", "BLT_DD"]},
            "periode": {"type": "string", "description": "2026-11, 2026-Q4, 2026; default the current month (WIB)"},
            "nominal": {"type": "integer", "description": "benefit amount (rupiah)"},
            "kode_wilayah": {"type": "string"}}),
        Some(Kind::PencarianIdentitas) => json!({
            "nik": {"type": "string", "description": "the NIK as the list writes it (may be wrong, empty or not 16 digits)"},
            "nik_terbaca": {"type": "string", "description": "the 16 digits the caller's reader made of it, when it did"},
            "nama": {"type": "string"}, "tgl_lahir": {"type": "string", "description": "YYYY-MM-DD"},
            "jenis_kelamin": {"type": "string", "enum": ["L", "P"]},
            "tempat_lahir": {"type": "string", "description": "accepted; not used by the linkage model"},
            "kode_wilayah": {"type": "string", "description": "village code the row states"},
            "no_kk": {"type": "string", "description": "the family card number (KK) the row states, 16 digits"}}),
        _ => json!({}),
    };
    if let (Some(p), Some(e)) = (props.as_object_mut(), extra.as_object()) {
        p.extend(e.clone());
    }
    json!({"type": "object", "required": ["nik"], "properties": props})
}

/// The answer of one question.
fn answer_schema(kind: Option<Kind>) -> Value {
    match kind {
        Some(Kind::PencarianIdentitas) => json!({
            "type": "object", "required": ["status", "identitas", "kandidat"],
            "properties": {
                "status": {"type": "string", "enum": ["DITEMUKAN", "SARAN", "MUNGKIN", "TIDAK_DITEMUKAN"]},
                "identitas": {"type": "object", "description": "the engine's identity answer: nik_status, person (linked NIK), suggestion [NIK, probability], inferred, slips"},
                "kandidat": {"type": "array", "maxItems": 3, "items": {"type": "object", "properties": {
                    "nik": {"type": "string"}, "skor": {"type": "number"},
                    "bukti": {"type": "array", "description": "per-field agreement levels, when granted (fields=bukti)"}}}}
            }
        }),
        Some(Kind::ValidasiPenerima) => validasi_answer_schema(false),
        _ => json!({
            "type": "object", "required": ["nik"],
            "properties": {
                "nik": {"type": "string"},
                "nik_valid": {"type": "boolean"},
                "ditemukan": {"type": "boolean"},
                "terdaftar": {"type": "boolean"},
                "aktif": {"type": "boolean"},
                "asn": {"type": "boolean"},
                "status": {"type": "string", "enum": ["hidup", "meninggal"]},
                "data": {"type": "object", "description": "the requested and granted fields"}
            }
        }),
    }
}

fn xroad_params() -> Value {
    json!([
        {"name": "X-Road-Client", "in": "header", "required": true, "schema": {"type": "string"},
         "description": "INSTANCE/CLASS/CODE/SUBSYSTEM of the caller (or Information-Mediator-Client)"},
        {"name": "X-Road-Id", "in": "header", "schema": {"type": "string"}},
        {"name": "X-Road-UserId", "in": "header", "schema": {"type": "string"}},
        {"name": "X-Road-Issue", "in": "header", "schema": {"type": "string"}},
        {"name": "X-Sinergi-Purpose", "in": "header", "required": true, "schema": {"type": "string"},
         "description": "Purpose code listed in the agreement, e.g. VALIDASI_BANSOS (covered by the signature)"},
        {"name": "X-Sinergi-Pks", "in": "header", "schema": {"type": "string"},
         "description": "The agreement (PKS) id to decide under (covered by the signature)"},
        {"name": "Signature-Input", "in": "header", "schema": {"type": "string"}},
        {"name": "Signature", "in": "header", "schema": {"type": "string"}},
        {"name": "Content-Digest", "in": "header", "schema": {"type": "string"}}
    ])
}

/// Query parameters of a `-batch` service.
fn batch_params(kind: Option<Kind>) -> Vec<Value> {
    let fields = json!({"name": "fields", "in": "query", "schema": {"type": "string"},
                        "description": "Comma-separated values to return for every line; each must be granted (FIELD_NOT_GRANTED otherwise, for the whole call)"});
    if kind == Some(Kind::ValidasiPenerima) {
        vec![
            json!({"name": "program", "in": "query", "schema": {"type": "string", "enum": ["PKH", "BPNT", "PBI_JK", "BLT_DD"], "default": "PBI_JK"},
                   "description": "Programme of every line that names none; unknown: the call is refused (SERVICE_NOT_COVERED)"}),
            json!({"name": "periode", "in": "query", "schema": {"type": "string"},
                   "description": "Period of every line that names none (default the current month, WIB)"}),
            json!({"name": "kode_wilayah", "in": "query", "schema": {"type": "string"},
                   "description": "Region (village code) the list is for, for every line that names none"}),
            fields,
        ]
    } else if kind == Some(Kind::PencarianIdentitas) {
        vec![
            json!({"name": "latih", "in": "query", "schema": {"type": "boolean"},
                   "description": "Learn the linkage model on this call's lines; the model's id comes back in X-Sinergi-Model"}),
            json!({"name": "model", "in": "query", "schema": {"type": "string"},
                   "description": "A model id an earlier call of the same list learnt (unknown or expired: the node's default model)"}),
            fields,
        ]
    } else {
        vec![fields]
    }
}

/// The answer of `validasi-penerima`, or (`line`) one output line of its `-batch`.
fn validasi_answer_schema(line: bool) -> Value {
    let mut props = json!({
        "nik": {"type": "string"},
        "program": {"type": "string"},
        "periode": {"type": "string"},
        "verdict": {"type": ["object", "null"], "description": "sinergi_rules::Verdict; its reasons show a registry value only when the caller asked for it (fields) and its agreement grants it"},
        "nik_tertaut": {"type": ["string", "null"], "description": "the linked person's NIK: shown when it is the NIK listed, else only with the nik_saran grant"},
        "nik_saran": {"type": ["string", "null"], "description": "the suggested NIK (nik_saran grant)"},
        "skor_saran": {"type": ["number", "null"], "description": "its probability (nik_saran grant)"},
        "tidak_diperiksa": {"type": "array", "description": "checks not made and why: {code, why, why_id, why_en}"},
        "sources": {"type": "object", "description": "per registry (dukcapil, bpjs_kesehatan, dtsen, bkn, bpjs_ketenagakerjaan): ok, or why it could not be asked"}
    });
    if line && let Some(p) = props.as_object_mut() {
        p.insert("baris".into(), json!({"type": "integer", "minimum": 1,
            "description": "1-based line number of the input line (blank lines counted, not answered)"}));
        p.insert("code".into(), json!({"type": "string", "description": "the line was not validated: REQUEST_INVALID, OUT_OF_REGION, SERVICE_NOT_COVERED"}));
        p.insert("message".into(), json!({"type": "string", "description": "why, in Bahasa Indonesia (Accept-Language: en for English)"}));
    }
    let required = if line {
        json!(["baris"])
    } else {
        json!(["nik", "program", "sources"])
    };
    json!({"type": "object", "required": required, "properties": props})
}

fn service_responses(ok_response: Value) -> Value {
    json!({
        "200": ok_response,
        "400": refusal("Malformed request, signature or identifier"),
        "401": refusal("Not authenticated (signature or token)"),
        "403": refusal("Refused under the agreements"),
        "404": refusal("SERVICE_NOT_FOUND: not provided by this node"),
        "405": refusal("METHOD_NOT_ALLOWED: services take POST only (Allow: POST)"),
        "413": refusal("REQUEST_TOO_LARGE: the body exceeds max_body_bytes"),
        "429": refusal("QUOTA_EXCEEDED, with Retry-After"),
        "503": refusal("AUDIT_UNAVAILABLE or REPLAY_CACHE_FULL")
    })
}

fn op(kind: Option<Kind>, batch: bool, code: &str) -> Value {
    let mut parameters = xroad_params();
    if batch && let Some(p) = parameters.as_array_mut() {
        p.extend(batch_params(kind));
    }
    let (req, resp) = if batch {
        let line = if kind == Some(Kind::ValidasiPenerima) {
            validasi_answer_schema(true)
        } else {
            json!({"type": "object"})
        };
        (
            json!({"required": true, "content": {"application/x-ndjson": {"schema": query_schema(kind)}}}),
            json!({"description": "One answer per non-blank input line, in order (NDJSON)",
                   "content": {"application/x-ndjson": {"schema": line}}}),
        )
    } else {
        (
            json!({"required": true, "content": {"application/json": {"schema": query_schema(kind)}}}),
            ok("Answer", answer_schema(kind)),
        )
    };
    let summary = match kind {
        Some(k) => k.description().to_owned(),
        None => format!(
            "{code}: declared by the member; this node has no implementation of it (SERVICE_NOT_FOUND)"
        ),
    };
    json!({
        "post": {
            "operationId": format!("service_{code}"),
            "summary": summary,
            "parameters": parameters,
            "requestBody": req,
            "security": [{"httpSignature": []}, {"apiToken": []}],
            "responses": service_responses(resp)
        }
    })
}

fn path_param(name: &str) -> Value {
    json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}})
}

fn client_list_schemas() -> Value {
    json!({
        "anyOf": [
            {"type": "object", "required": ["member"], "properties": {"member": {"type": "array", "items": {
                "type": "object", "required": ["id", "name"], "properties": {
                    "name": {"type": "string"},
                    "id": {"type": "object", "required": ["xroad_instance", "member_class", "member_code", "subsystem_code", "object_type"],
                           "properties": {"xroad_instance": {"type": "string"}, "member_class": {"type": "string"},
                                          "member_code": {"type": "string"}, "subsystem_code": {"type": "string"},
                                          "object_type": {"type": "string", "enum": ["SUBSYSTEM"]}}}}}}}},
            {"$ref": "#/components/schemas/GovStackClientList"}
        ]
    })
}

fn service_list_schemas() -> Value {
    json!({
        "anyOf": [
            {"type": "object", "required": ["service"], "properties": {"service": {"type": "array", "items": {
                "type": "object", "required": ["service_code", "object_type", "service_type", "endpoint_list"],
                "properties": {"xroad_instance": {"type": "string"}, "member_class": {"type": "string"},
                               "member_code": {"type": "string"}, "subsystem_code": {"type": "string"},
                               "service_code": {"type": "string"}, "object_type": {"type": "string", "enum": ["SERVICE"]},
                               "service_type": {"type": "string", "enum": ["REST"]},
                               "endpoint_list": {"type": "array", "items": {"$ref": "#/components/schemas/Endpoint"}}}}}}},
            {"$ref": "#/components/schemas/GovStackServiceList"}
        ]
    })
}

fn directory_get(
    id: &str,
    summary: &str,
    params: Value,
    ok_schema: Value,
    extra: &[(&str, Value)],
) -> Value {
    let mut responses = json!({
        "200": ok("X-Road JSON shapes, or GovStack's in GovStack form (docs/API.md, Directory)", ok_schema),
        "400": refusal("Malformed identifier or query"),
        "405": refusal("METHOD_NOT_ALLOWED: GET only (Allow: GET, HEAD)")
    });
    if let Some(r) = responses.as_object_mut() {
        for (k, v) in extra {
            r.insert((*k).to_owned(), v.clone());
        }
    }
    json!({"get": {"operationId": id, "summary": summary, "tags": ["directory"],
                   "parameters": params, "responses": responses}})
}

fn directory_paths(paths: &mut Map<String, Value>) {
    let list_clients_params = json!([
        {"name": "xRoadInstance", "in": "query", "schema": {"type": "string"}, "description": "X-Road: only this instance"},
        {"name": "instanceId", "in": "query", "schema": {"type": "string"}, "description": "GovStack: only this instance (answers in GovStack's shapes)"}
    ]);
    paths.insert(
        "/listClients".into(),
        directory_get(
            "listClients",
            "Members and subsystems known to this node (X-Road, GovStack IM)",
            list_clients_params,
            client_list_schemas(),
            &[],
        ),
    );
    paths.insert(
        "/r1/listClients".into(),
        directory_get(
            "listClientsR1",
            "GovStack IM Member Discovery API: the same list in GovStack's shapes",
            json!([{"name": "instanceId", "in": "query", "schema": {"type": "string"}}]),
            json!({"$ref": "#/components/schemas/GovStackClientList"}),
            &[],
        ),
    );
    paths.insert(
        "/r1/{instance}/listClients".into(),
        directory_get(
            "listClientsOfInstance",
            "Members and subsystems of one instance",
            json!([path_param("instance")]),
            client_list_schemas(),
            &[],
        ),
    );
    let client_header = json!({"name": "X-Road-Client", "in": "header", "schema": {"type": "string"},
        "description": "allowedMethods: the client asking (or Information-Mediator-Client); must be proven by an RFC 9421 signature or an API token"});
    let not_found = refusal("SERVICE_NOT_FOUND: the provider (or service) is not hosted here");
    let unauth = refusal("allowedMethods: the claimed client is not proven");
    for (prefix, params, form) in [
        (
            "/r1/{instance}/{memberClass}/{memberCode}/{subsystemCode}",
            ["instance", "memberClass", "memberCode", "subsystemCode"],
            "X-Road",
        ),
        (
            "/{instanceId}/{memberClass}/{memberCode}/{applicationCode}",
            ["instanceId", "memberClass", "memberCode", "applicationCode"],
            "GovStack",
        ),
    ] {
        let base: Vec<Value> = params.iter().map(|p| path_param(p)).collect();
        let suffix = if form == "GovStack" { "GovStack" } else { "" };
        let mut with_client = base.clone();
        with_client.push(client_header.clone());
        paths.insert(
            format!("{prefix}/listMethods"),
            directory_get(
                &format!("listMethods{suffix}"),
                &format!("Every REST service of a provider ({form} form)"),
                json!(base),
                service_list_schemas(),
                &[("404", not_found.clone())],
            ),
        );
        paths.insert(format!("{prefix}/allowedMethods"), directory_get(
            &format!("allowedMethods{suffix}"),
            &format!("The services an agreement in force lets the proven caller call ({form} form); none for an anonymous caller"),
            json!(with_client), service_list_schemas(),
            &[("401", unauth.clone()), ("404", not_found.clone())]));
        let mut oa = base.clone();
        oa.push(json!({"name": "serviceCode", "in": "query", "required": true, "schema": {"type": "string"}}));
        paths.insert(
            format!("{prefix}/getOpenAPI"),
            directory_get(
                &format!("getOpenAPI{suffix}"),
                &format!("OpenAPI 3.1 of one service, as a JSON object ({form} form)"),
                json!(oa),
                json!({"type": "object", "required": ["openapi", "paths"]}),
                &[("404", not_found.clone())],
            ),
        );
    }
}

fn admin_op(id: &str, summary: &str, ok_response: Value, extra: Value) -> Value {
    let mut responses = json!({
        "401": refusal("ADMIN_TOKEN_INVALID: no admin token, or not the node key's signature"),
        "405": refusal("METHOD_NOT_ALLOWED"),
        "500": refusal("INTERNAL_ERROR")
    });
    if let Some(r) = responses.as_object_mut() {
        r.insert(
            if ok_response["description"] == "Created" {
                "201"
            } else {
                "200"
            }
            .into(),
            ok_response,
        );
        if let Some(e) = extra.as_object() {
            r.extend(e.clone());
        }
    }
    json!({"operationId": id, "summary": summary, "tags": ["admin"],
           "security": [{"adminToken": []}, {"nodeKey": []}], "responses": responses})
}

fn with_body(mut op: Value, schema: Value) -> Value {
    op["requestBody"] =
        json!({"required": true, "content": {"application/json": {"schema": schema}}});
    op
}

fn admin_paths(paths: &mut Map<String, Value>) {
    let agreement = json!({"$ref": "#/components/schemas/Agreement"});
    let invalid = refusal("REQUEST_INVALID");
    paths.insert("/admin/pks".into(), json!({
        "get": admin_op("listAgreements", "Every agreement (admin)",
            ok("Agreements", json!({"type": "object", "required": ["agreements"], "properties": {"agreements": {"type": "array", "items": agreement}}})), json!({})),
        "post": with_body(admin_op("createAgreement", "Create an agreement (admin); X-Road-UserId names who, for the audit",
            json!({"description": "Created", "content": {"application/json": {"schema": agreement}}}),
            json!({"400": invalid, "409": refusal("AGREEMENT_EXISTS"), "503": refusal("AUDIT_UNAVAILABLE")})), agreement.clone())
    }));
    let mut change = with_body(
        admin_op(
            "changeAgreementStatus",
            "suspend | reinstate | revoke an agreement (admin); in force for every decision after the answer",
            ok("The agreement after the change", agreement.clone()),
            json!({"400": invalid, "404": refusal("AGREEMENT_NOT_FOUND, or not an action"),
                   "409": refusal("AGREEMENT_STATUS_CONFLICT"), "503": refusal("AUDIT_UNAVAILABLE")}),
        ),
        json!({"type": "object", "properties": {"by": {"type": "string"}, "reason": {"type": "string"}}}),
    );
    change["requestBody"]["required"] = json!(false);
    change["parameters"] = json!([path_param("id"),
        {"name": "action", "in": "path", "required": true, "schema": {"type": "string", "enum": ["suspend", "reinstate", "revoke"]}}]);
    paths.insert("/admin/pks/{id}/{action}".into(), json!({"post": change}));
    paths.insert("/admin/audit/verify".into(), json!({"get": admin_op("auditVerify",
        "Signs a fresh checkpoint (witnessed), then verifies the whole chain against checkpoints and witness receipts",
        ok("Report", json!({"$ref": "#/components/schemas/VerifyReport"})), json!({}))}));
    let mut entries = admin_op(
        "auditEntries",
        "Audit entries (default the last 100, at most 10,000)",
        ok(
            "Entries",
            json!({"type": "object", "required": ["entries"], "properties": {"entries": {"type": "array", "items": {"$ref": "#/components/schemas/AuditEntry"}}}}),
        ),
        json!({"400": refusal("REQUEST_INVALID: from/limit not integers")}),
    );
    entries["parameters"] = json!([
        {"name": "from", "in": "query", "schema": {"type": "integer", "minimum": 0}},
        {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 0}}]);
    paths.insert("/admin/audit/entries".into(), json!({"get": entries}));
    paths.insert("/admin/audit/checkpoints".into(), json!({"get": admin_op("auditCheckpoints",
        "Checkpoints, witness receipts and the node's public key (publish them off the node)",
        ok("Checkpoints", json!({"type": "object", "required": ["checkpoints", "receipts", "node_public_key"],
            "properties": {"node": {"type": "string"}, "node_public_key": {"type": "string"},
                           "checkpoints": {"type": "array", "items": {"$ref": "#/components/schemas/Checkpoint"}},
                           "receipts": {"type": "array", "items": {"$ref": "#/components/schemas/WitnessReceipt"}}}})),
        json!({}))}));
    paths.insert("/admin/audit/checkpoint".into(), json!({"post": admin_op("auditCheckpoint",
        "Sign a checkpoint now and have the witnesses countersign it",
        ok("The checkpoint (null: empty log), receipts, witness errors", json!({"type": "object", "required": ["checkpoint", "receipts", "witness_errors"],
            "properties": {"checkpoint": {"anyOf": [{"type": "null"}, {"$ref": "#/components/schemas/Checkpoint"}]},
                           "receipts": {"type": "array", "items": {"$ref": "#/components/schemas/WitnessReceipt"}},
                           "witness_errors": {"type": "array", "items": {"type": "string"}}}})),
        json!({}))}));
    paths.insert("/admin/audit/subject".into(), json!({"post": with_body(admin_op("auditSubject",
        "Every entry about one person (UU PDP art. 32), by keyed subject hash",
        ok("Entries", json!({"type": "object", "required": ["entries"], "properties": {"entries": {"type": "array", "items": {"$ref": "#/components/schemas/AuditEntry"}}}})),
        json!({"400": invalid})), json!({"type": "object", "required": ["nik"], "properties": {"nik": {"type": "string"}}}))}));
    let mut reload = admin_op(
        "snapshotReload",
        "Rebuild the index from the store now",
        ok(
            "Reloaded",
            json!({"type": "object", "required": ["reloaded"], "properties": {"reloaded": {"type": "boolean"}, "persons": {"type": "integer"}}}),
        ),
        json!({}),
    );
    reload["requestBody"] =
        json!({"required": false, "content": {"application/json": {"schema": {}}}});
    paths.insert("/admin/snapshot/reload".into(), json!({"post": reload}));
}

fn witness_paths(paths: &mut Map<String, Value>) {
    let sig = json!([{"httpSignature": []}]);
    paths.insert("/witness/checkpoints".into(), json!({
        "post": {"operationId": "witnessCheckpoint", "tags": ["witness"],
                 "summary": "Keep a copy of a peer node's audit checkpoint and countersign it (signed by that node's member)",
                 "security": sig, "parameters": [{"name": "X-Road-Client", "in": "header", "required": true, "schema": {"type": "string"}}],
                 "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Checkpoint"}}}},
                 "responses": {"200": ok("The receipt", json!({"$ref": "#/components/schemas/WitnessReceipt"})),
                               "400": refusal("Malformed checkpoint or signature"),
                               "401": refusal("Not signed by a peer's member"),
                               "405": refusal("METHOD_NOT_ALLOWED"),
                               "409": refusal("WITNESS_CONFLICT: another checkpoint held for that seq, or another member speaks for that node"),
                               "500": refusal("INTERNAL_ERROR")}},
        "get": {"operationId": "witnessCopies", "tags": ["witness"],
                "summary": "The copies of a node's checkpoints held here (signed by the member speaking for that node, or the admin token)",
                "security": [{"httpSignature": []}, {"adminToken": []}],
                "parameters": [{"name": "node", "in": "query", "required": true, "schema": {"type": "string"}},
                               {"name": "X-Road-Client", "in": "header", "schema": {"type": "string"}}],
                "responses": {"200": ok("Copies", json!({"type": "object", "required": ["node", "checkpoints"],
                                  "properties": {"node": {"type": "string"}, "witness": {"type": "string"},
                                                 "checkpoints": {"type": "array", "items": {"$ref": "#/components/schemas/Checkpoint"}}}})),
                              "400": refusal("REQUEST_INVALID: no node, or a malformed signature"),
                              "401": refusal("Not signed by the member speaking for that node"),
                              "405": refusal("METHOD_NOT_ALLOWED"),
                              "500": refusal("INTERNAL_ERROR")}}
    }));
}

fn node_paths(paths: &mut Map<String, Value>) {
    let get_only = refusal("METHOD_NOT_ALLOWED");
    paths.insert("/healthz".into(), json!({"get": {"operationId": "healthz", "summary": "Liveness and index size",
        "responses": {"200": ok("OK", json!({"type": "object", "required": ["status", "node"], "properties": {
            "status": {"type": "string"}, "node": {"type": "string"}, "persons": {"type": "integer"}, "snapshots": {"type": "integer"}}})),
            "405": get_only}}}));
    paths.insert("/metrics".into(), json!({"get": {"operationId": "metrics", "summary": "Prometheus metrics",
        "responses": {"200": {"description": "Prometheus text format 0.0.4", "content": {"text/plain": {"schema": {"type": "string"}}}},
                      "405": get_only}}}));
    paths.insert("/openapi.json".into(), json!({"get": {"operationId": "openapi", "summary": "This document",
        "responses": {"200": ok("OpenAPI 3.1", json!({"type": "object", "required": ["openapi", "paths"]})),
                      "405": get_only}}}));
}

fn components() -> Value {
    let hash = json!({"type": "string", "pattern": "^[0-9a-f]{64}$"});
    let checkpoint = json!({"type": "object", "required": ["node", "seq", "head_hash", "at", "signature"],
        "properties": {"node": {"type": "string"}, "seq": {"type": "integer", "minimum": 0}, "head_hash": hash,
                       "at": {"type": "integer"}, "signature": {"type": "string", "description": "base64 Ed25519"}}});
    json!({
        "schemas": {
            "Error": error_schema(),
            "Checkpoint": checkpoint,
            "WitnessReceipt": {"type": "object", "required": ["checkpoint", "witness", "received_at", "signature"],
                "properties": {"checkpoint": {"$ref": "#/components/schemas/Checkpoint"}, "witness": {"type": "string"},
                               "received_at": {"type": "integer"}, "signature": {"type": "string"}}},
            "AuditEntry": {"type": "object", "required": ["seq", "at", "node", "client", "service", "decision", "hash", "prev_hash"],
                "properties": {"seq": {"type": "integer"}, "at": {"type": "integer"}, "node": {"type": "string"},
                               "client": {"type": "string"}, "service": {"type": "string"}, "decision": {"type": "string"},
                               "hash": hash, "prev_hash": hash}},
            "VerifyReport": {"type": "object", "required": ["ok", "entries", "last_seq", "problems"],
                "properties": {"ok": {"type": "boolean"}, "entries": {"type": "integer"}, "last_seq": {"type": "integer"},
                               "anchored_seq": {"type": "integer"}, "witnessed_seq": {"type": "integer"},
                               "problems": {"type": "array", "items": {"type": "object"}}}},
            "Agreement": {"type": "object", "required": ["id", "provider", "consumer", "services", "purposes", "legal_basis",
                                                          "region_scope", "valid_from", "valid_until", "quota", "status_history"],
                "description": "docs/EXCHANGE.md section 4",
                "properties": {"id": {"type": "string"}, "provider": {"type": "string"}, "consumer": {"type": "string"},
                               "services": {"type": "array", "items": {"type": "object", "required": ["service_code", "fields"],
                                   "properties": {"service_code": {"type": "string"}, "fields": {"type": "array", "items": {"type": "string"}}}}},
                               "purposes": {"type": "array", "items": {"type": "string"}}, "legal_basis": {"type": "string"},
                               "region_scope": {}, "valid_from": {"type": "integer"}, "valid_until": {"type": "integer"},
                               "quota": {"type": "object", "required": ["per_second", "per_day"],
                                         "properties": {"per_second": {"type": "integer", "minimum": 0}, "per_day": {"type": "integer", "minimum": 0}}},
                               "status_history": {"type": "array", "items": {"type": "object"}}}},
            "Endpoint": {"type": "object", "required": ["method", "path"], "properties": {"method": {"type": "string"}, "path": {"type": "string"}}},
            "GovStackClientList": {"type": "object", "required": ["member"], "properties": {"member": {"type": "array", "items": {
                "type": "object", "required": ["name", "id"], "properties": {"name": {"type": "string"},
                "id": {"type": "object", "required": ["objectType", "instanceId", "memberClass", "memberCode", "applicationCode"],
                       "properties": {"objectType": {"type": "string", "enum": ["MEMBER", "APPLICATION", "SERVICE"]},
                                      "instanceId": {"type": "string"}, "GovStackInstance": {"type": "string"},
                                      "memberClass": {"type": "string"}, "memberCode": {"type": "string"},
                                      "applicationCode": {"type": "string"}}}}}}}},
            "GovStackServiceList": {"type": "object", "required": ["member"], "properties": {"member": {"type": "array", "items": {
                "type": "object", "required": ["objectType", "serviceType", "instanceId", "memberClass", "memberCode", "applicationCode", "serviceCode", "endpointList"],
                "properties": {"objectType": {"type": "string", "enum": ["MEMBER", "APPLICATION", "SERVICE"]},
                               "serviceType": {"type": "string"}, "instanceId": {"type": "string"}, "GovStackInstance": {"type": "string"},
                               "memberClass": {"type": "string"}, "memberCode": {"type": "string"}, "applicationCode": {"type": "string"},
                               "serviceCode": {"type": "string"}, "serviceVersion": {"type": "string"},
                               "endpointList": {"type": "object", "required": ["member"], "properties": {"member": {"type": "array", "items": {"$ref": "#/components/schemas/Endpoint"}}}}}}}}}
        },
        "securitySchemes": {
            "httpSignature": {"type": "apiKey", "in": "header", "name": "Signature",
                              "description": "RFC 9421 Ed25519 signature, Sinergi profile (docs/EXCHANGE.md): covers @method, @target-uri, content-digest and every X-Road / Sinergi header sent"},
            "apiToken": {"type": "http", "scheme": "bearer", "description": "sng_... token of a system inside the provider's agency"},
            "adminToken": {"type": "http", "scheme": "bearer", "description": "an admin token (admin_token_hashes)"},
            "nodeKey": {"type": "apiKey", "in": "header", "name": "Signature",
                        "description": "RFC 9421 signature with the node's own key (keyid node#NAME): sinergi pks / sinergi audit on the node's machine"}
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
            let (kind, batch) = match Kind::parse(code) {
                Some((k, b)) => (Some(k), b),
                None => (None, false),
            };
            paths.insert(format!("/r1/{}/{}", h.id, code), op(kind, batch, code));
        }
    }
    if only.is_none() {
        directory_paths(&mut paths);
        node_paths(&mut paths);
        admin_paths(&mut paths);
        witness_paths(&mut paths);
    }
    json!({
        "openapi": "3.1.0",
        "info": {"title": format!("Sinergi node {}", st.config.node_name), "version": env!("CARGO_PKG_VERSION")},
        "paths": paths,
        "components": components()
    })
}

/// `GET /openapi.json`.
pub async fn handler(State(st): State<Arc<AppState>>) -> Json<Value> {
    Json(document(&st, None))
}

/// The description of one provider's service (`getOpenAPI?serviceCode=...`); `None` when
/// the provider does not provide it here.
pub fn for_service(st: &AppState, provider: &ClientId, code: &str) -> Option<Value> {
    let provided = st
        .hosted
        .get(provider)
        .is_some_and(|h| h.services.iter().any(|s| s == code));
    provided.then(|| document(st, Some((provider, code))))
}
