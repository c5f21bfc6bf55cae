//! The directory: `listClients`, `listMethods`, `allowedMethods`, `getOpenAPI`, in the
//! X-Road form and in the GovStack Information Mediator form (docs/API.md, "Directory").
//!
//! Routes: `/listClients`, `/r1/listClients` and `/r1/{instance}/listClients`; the provider's
//! metaservices under `/r1/{instance}/{class}/{member}/{subsystem}/` and, as GovStack's suite
//! calls them, at the root `/{instance}/{class}/{member}/{application}/`. Answers take
//! GovStack's shapes (`member` items with `objectType`, `instanceId`, `applicationCode`,
//! `endpointList`) when the call is in GovStack's form (root path, `/r1/listClients`,
//! `?instanceId=`, or an `Information-Mediator-Client` / `X-GovStack-Client` header), X-Road's
//! JSON shapes otherwise.
//!
//! `listClients`, `listMethods` and `getOpenAPI` describe what the node offers and carry no
//! personal data: anyone may call them. `allowedMethods` reveals which agreements a client
//! holds: it answers only for a client that proves who it is (signature or token, as for a
//! service); without a claimed client it lists what an anonymous caller may call, nothing.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use sinergi_exchange::{AgreementStatus, ClientId, ErrorCode, ServiceId};

use crate::gateway::{authenticate, claimed_client, query_params};
use crate::refusal::{ServerCode, method_not_allowed, refuse, wants_english};
use crate::state::AppState;

/// A provider's metaservice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Meta {
    ListMethods,
    AllowedMethods,
    GetOpenApi,
}

impl Meta {
    /// The metaservice named by a service code (exact, as X-Road and GovStack spell them).
    pub fn parse(code: &str) -> Option<Meta> {
        match code {
            "listMethods" => Some(Meta::ListMethods),
            "allowedMethods" => Some(Meta::AllowedMethods),
            "getOpenAPI" => Some(Meta::GetOpenApi),
            _ => None,
        }
    }
}

/// Which shapes to answer in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    XRoad,
    GovStack,
}

fn govstack_header(headers: &HeaderMap) -> bool {
    headers.contains_key("information-mediator-client") || headers.contains_key("x-govstack-client")
}

/// A directory answer: JSON with an explicit charset, as GovStack's clients check.
fn json_utf8(v: &Value) -> Response {
    crate::refusal::json_utf8(axum::Json(v).into_response())
}

fn get_only(method: &Method, en: bool) -> Option<Response> {
    (method != Method::GET && method != Method::HEAD).then(|| method_not_allowed("GET, HEAD", en))
}

// ---------------------------------------------------------------------------------------------
// listClients

fn client_json(c: &ClientId, name: &str, form: Form) -> Value {
    match form {
        Form::XRoad => json!({
            "id": {
                "xroad_instance": c.instance,
                "member_class": c.member_class,
                "member_code": c.member_code,
                "subsystem_code": c.subsystem_code,
                "object_type": "SUBSYSTEM",
            },
            "name": name,
        }),
        // `instanceId` (Directory Services API 1.0) and `GovStackInstance` (Service
        // Metadata API 0.3) name the same part.
        Form::GovStack => json!({
            "name": name,
            "id": {
                "objectType": "APPLICATION",
                "instanceId": c.instance,
                "GovStackInstance": c.instance,
                "memberClass": c.member_class,
                "memberCode": c.member_code,
                "applicationCode": c.subsystem_code,
            },
        }),
    }
}

fn list_clients_for(st: &AppState, instance: Option<&str>, form: Form) -> Response {
    let mut members: Vec<(ClientId, String)> = st
        .hosted
        .values()
        .map(|h| (h.id.clone(), h.name.clone()))
        .chain(st.peer_members.iter().cloned())
        .filter(|(c, _)| instance.is_none_or(|i| c.instance == i))
        .collect();
    members.sort();
    members.dedup_by(|a, b| a.0 == b.0);
    let member: Vec<Value> = members
        .iter()
        .map(|(c, name)| client_json(c, name, form))
        .collect();
    json_utf8(&json!({ "member": member }))
}

#[derive(serde::Deserialize, Default)]
pub struct ListClientsParams {
    #[serde(rename = "xRoadInstance")]
    x_road_instance: Option<String>,
    #[serde(rename = "instanceId")]
    instance_id: Option<String>,
}

/// `GET /listClients[?xRoadInstance=ID | ?instanceId=ID]`.
pub async fn list_clients(
    State(st): State<Arc<AppState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    clients(&st, &method, &uri, &headers, false)
}

/// `GET /r1/listClients` (GovStack's Member Discovery API).
pub async fn r1_list_clients(
    State(st): State<Arc<AppState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    clients(&st, &method, &uri, &headers, true)
}

fn clients(
    st: &AppState,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    govstack: bool,
) -> Response {
    let en = wants_english(headers);
    if let Some(r) = get_only(method, en) {
        return r;
    }
    let Some(p) = query_params::<ListClientsParams>(uri.query()) else {
        return refuse(ServerCode::RequestInvalid, en, None);
    };
    let form = if govstack || p.instance_id.is_some() || govstack_header(headers) {
        Form::GovStack
    } else {
        Form::XRoad
    };
    let instance = p.instance_id.or(p.x_road_instance);
    list_clients_for(st, instance.as_deref(), form)
}

/// `GET /r1/{instance}/listClients`.
pub fn list_clients_at(
    st: &AppState,
    method: &Method,
    headers: &HeaderMap,
    instance: Option<&str>,
) -> Response {
    if let Some(r) = get_only(method, wants_english(headers)) {
        return r;
    }
    let form = if govstack_header(headers) {
        Form::GovStack
    } else {
        Form::XRoad
    };
    list_clients_for(st, instance, form)
}

// ---------------------------------------------------------------------------------------------
// A provider's metaservices

/// One metaservice call.
pub struct Call<'a> {
    pub meta: Meta,
    pub method: &'a Method,
    pub target_uri: &'a str,
    pub headers: &'a HeaderMap,
    pub body: &'a Bytes,
    pub provider: &'a ClientId,
    pub query: Option<&'a str>,
    /// What follows the metaservice name in the path (must be nothing).
    pub resource: &'a str,
    /// Called at the root, GovStack's form.
    pub govstack_path: bool,
}

/// The GovStack metaservice path's five segments.
type MetaPath = (String, String, String, String, String);

/// `GET /{instance}/{class}/{member}/{application}/{listMethods|allowedMethods|getOpenAPI}`:
/// GovStack's form of the provider's metaservices.
pub async fn govstack(
    State(st): State<Arc<AppState>>,
    path: Result<Path<MetaPath>, axum::extract::rejection::PathRejection>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let en = wants_english(&headers);
    // A segment that does not decode to UTF-8 (`%FF`) is no identifier: 400 as any other.
    let Ok(Path((instance, class, member, app, meta))) = path else {
        return refuse(ErrorCode::ServiceIdInvalid, en, None);
    };
    let Some(meta) = Meta::parse(&meta) else {
        return refuse(ServerCode::NotFound, en, None);
    };
    let Ok(provider) = ClientId::new(&instance, &class, &member, &app) else {
        return refuse(ErrorCode::ServiceIdInvalid, en, None);
    };
    let target = crate::gateway::target_uri(&st, &uri, &headers);
    self::meta(
        &st,
        Call {
            meta,
            method: &method,
            target_uri: &target,
            headers: &headers,
            body: &body,
            provider: &provider,
            query: uri.query(),
            resource: "",
            govstack_path: true,
        },
    )
    .await
}

#[derive(serde::Deserialize, Default)]
struct OpenApiParams {
    #[serde(rename = "serviceCode")]
    service_code: Option<String>,
}

/// Answers a provider's metaservice.
pub async fn meta(st: &Arc<AppState>, c: Call<'_>) -> Response {
    let en = wants_english(c.headers);
    if !c.resource.is_empty() {
        return refuse(ServerCode::NotFound, en, None);
    }
    if let Some(r) = get_only(c.method, en) {
        return r;
    }
    let form = if c.govstack_path || govstack_header(c.headers) {
        Form::GovStack
    } else {
        Form::XRoad
    };
    match c.meta {
        Meta::ListMethods => list_methods(st, c.provider, None, form, en),
        Meta::AllowedMethods => {
            let claimed = claimed_client(c.headers);
            if claimed.is_empty() {
                // An anonymous caller may call nothing.
                return list_methods(st, c.provider, Some(None), form, en);
            }
            let Ok(client) = ClientId::parse_header(claimed) else {
                return refuse(ErrorCode::ClientIdInvalid, en, None);
            };
            if let Err((code, _)) = authenticate(
                st,
                c.method,
                c.target_uri,
                c.headers,
                c.body,
                &client,
                c.provider,
            )
            .await
            {
                return refuse(code, en, None);
            }
            list_methods(st, c.provider, Some(Some(client)), form, en)
        }
        Meta::GetOpenApi => {
            let Some(p) = query_params::<OpenApiParams>(c.query) else {
                return refuse(ServerCode::RequestInvalid, en, None);
            };
            let Some(code) = p.service_code.filter(|s| !s.is_empty()) else {
                return refuse(ServerCode::RequestInvalid, en, None);
            };
            if ServiceId::new(c.provider.clone(), &code).is_err() {
                return refuse(ErrorCode::ServiceIdInvalid, en, None);
            }
            match crate::openapi::for_service(st, c.provider, &code) {
                Some(doc) => json_utf8(&doc),
                None => refuse(ServerCode::ServiceNotFound, en, None),
            }
        }
    }
}

/// `listMethods` (every REST service of the provider) or, with a client, `allowedMethods`
/// (those an agreement in force lets that client call; `Some(None)`: an anonymous caller).
fn list_methods(
    st: &AppState,
    provider: &ClientId,
    allowed_for: Option<Option<ClientId>>,
    form: Form,
    en: bool,
) -> Response {
    let Some(h) = st.hosted.get(provider) else {
        return refuse(ServerCode::ServiceNotFound, en, None);
    };
    let at = crate::now();
    let agreements = st.agreements();
    let mut services: Vec<Value> = Vec::new();
    let mut codes = h.services.clone();
    codes.sort();
    for code in codes {
        if let Some(client) = &allowed_for {
            let Some(client) = client else { continue };
            let ok = agreements.iter().any(|a| {
                &a.consumer == client
                    && &a.provider == provider
                    && a.status_at(at).0 == AgreementStatus::Active
                    && a.valid_from <= at
                    && at < a.valid_until
                    && a.services.iter().any(|s| s.service_code == code)
            });
            if !ok {
                continue;
            }
        }
        services.push(match form {
            Form::XRoad => json!({
                "xroad_instance": provider.instance,
                "member_class": provider.member_class,
                "member_code": provider.member_code,
                "subsystem_code": provider.subsystem_code,
                "service_code": code,
                "object_type": "SERVICE",
                "service_type": "REST",
                "endpoint_list": [{"method": "POST", "path": "/"}],
            }),
            Form::GovStack => json!({
                "objectType": "SERVICE",
                "serviceType": "REST",
                "instanceId": provider.instance,
                "GovStackInstance": provider.instance,
                "memberClass": provider.member_class,
                "memberCode": provider.member_code,
                "applicationCode": provider.subsystem_code,
                "serviceCode": code,
                "endpointList": {"member": [{"method": "POST", "path": "/"}]},
            }),
        });
    }
    let key = match form {
        Form::XRoad => "service",
        Form::GovStack => "member",
    };
    json_utf8(&json!({ key: services }))
}
