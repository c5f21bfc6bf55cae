//! GovStack Information Mediator conformance of the directory calls, written from the
//! specification's facts (GovStackWorkingGroup/bb-information-mediator):
//!
//! - `api/GovStack_IM_Directory_Services_API.yaml` (1.0): `GET /listClients[?instanceId=]`;
//!   `GET /r1/{instanceId}/{memberClass}/{memberCode}/{applicationCode}/{listMethods |
//!   allowedMethods | getOpenAPI}`; the caller in the `X-GovStack-Client` header;
//!   `getOpenAPI` requires `serviceCode`; errors in the request are 400; the schemas
//!   `restClientDetailsListType` (`member: [{name, id: {objectType, instanceId, memberClass,
//!   memberCode, applicationCode}}]`) and `restServiceDetailsListType` (`member: [{objectType,
//!   serviceType, instanceId, memberClass, memberCode, applicationCode, serviceCode,
//!   endpointList: {member: [{method, path}]}}]`), `objectType` one of MEMBER, APPLICATION,
//!   SERVICE.
//! - `api/gov-stack_im_service_metadata_list-clients_api-0.3-swagger.yaml`: the server URL
//!   is `https://{securityserver}/r1`, so `GET /r1/listClients`; `api/GovStack_IM_Service_
//!   Metadata.yaml` (0.3) names the instance `GovStackInstance`.
//! - `test/openAPI/features/*.feature` and `support/helpers/helpers.js`: the suite calls the
//!   metaservices at the root (`/{GovStackInstance}/{memberClass}/...`), with identifiers
//!   such as `identifier/identifier/alp4aNum3r1c/alp4aNum3r1c` (lower-case member classes),
//!   the caller in `Information-Mediator-Client`, expects `application/json; charset=utf-8`
//!   and 400 for `1nval1d` instances and classes, `_invalid` codes, and a missing, empty or
//!   `_invalid` `serviceCode`.
//!
//! Where the suite contradicts the specification the test follows the specification
//! (docs/EXCHANGE.md, "GovStack Information Mediator conformance").

use serde_json::Value;
use sinergi_exchange::token::NewToken;
use tempfile::TempDir;

use crate::common::*;

/// Providers and a client with identifiers of the suite's kind.
const PROVIDER: &str = "identifier/identifier/alp4aNum3r1c/alp4aNum3r1c";
const PROVIDER_2: &str = "a11a11a11a/asd2211a/12as12/m3mb3rc0d3";
/// A system of the provider's own member (an API token proves it).
const CLIENT: &str = "identifier/identifier/alp4aNum3r1c/loket";
/// The caller the suite names in `Information-Mediator-Client`.
const SUITE_CLIENT: &str = "eGovStack/GOV/90000009/digitalregistries";
const SVC: &str = "verifikasi-identitas";

struct Fixture {
    _dir: TempDir,
    node: Node,
    http: HttpClient,
    token: NewToken,
}

async fn fixture() -> Fixture {
    let dir = TempDir::new().unwrap();
    seed_dukcapil(&dir.path().join("sinergi.db"), 0).await;
    let mut c = config(dir.path(), "govstack");
    c.members
        .push(member(PROVIDER, None, &[SVC, "verifikasi-identitas-batch"]));
    c.members.push(member(PROVIDER_2, None, &[SVC]));
    let (token, t) = token_for(CLIENT, 3);
    c.tokens.push(t);
    c.agreements
        .push(agreement("PKS-GS-1", PROVIDER, CLIENT, SVC, &["nama"]));
    let node = start(c).await;
    Fixture {
        _dir: dir,
        node,
        http: http(),
        token,
    }
}

impl Fixture {
    async fn get(&self, path: &str, headers: &[(&str, &str)]) -> Resp {
        let h: Vec<(String, String)> = headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        send(
            &self.http,
            "GET",
            &format!("{}{path}", self.node.base),
            &h,
            vec![],
        )
        .await
    }
}

fn content_type(r: &Resp) -> String {
    r.headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

fn is_json_utf8(r: &Resp) -> bool {
    let ct = content_type(r).to_ascii_lowercase().replace(' ', "");
    ct == "application/json;charset=utf-8"
}

const OBJECT_TYPES: [&str; 3] = ["MEMBER", "APPLICATION", "SERVICE"];

/// `restClientDetailsListType`, checked strictly: every property the spec names, typed as it
/// says, and no property the spec does not name.
fn assert_client_list(v: &Value) -> Vec<Value> {
    let obj = v.as_object().expect("an object");
    assert_eq!(obj.keys().collect::<Vec<_>>(), ["member"], "{v}");
    let members = v["member"].as_array().expect("member is an array").clone();
    for m in &members {
        let keys: Vec<&String> = m.as_object().expect("member item object").keys().collect();
        assert!(
            keys.iter().all(|k| ["name", "id"].contains(&k.as_str())),
            "{m}"
        );
        assert!(m["name"].is_string(), "{m}");
        let id = m["id"].as_object().expect("id object");
        for (k, val) in id {
            match k.as_str() {
                "objectType" => {
                    assert!(OBJECT_TYPES.contains(&val.as_str().unwrap_or("")), "{m}")
                }
                "instanceId" | "GovStackInstance" | "memberClass" | "memberCode"
                | "applicationCode" => assert!(val.is_string(), "{m}"),
                other => panic!("property {other} is not in restClientDetailsType: {m}"),
            }
        }
        for k in ["objectType", "instanceId", "memberClass", "memberCode"] {
            assert!(id.contains_key(k), "{k} missing: {m}");
        }
    }
    members
}

/// `restServiceDetailsListType`, checked strictly.
fn assert_service_list(v: &Value) -> Vec<Value> {
    let obj = v.as_object().expect("an object");
    assert_eq!(obj.keys().collect::<Vec<_>>(), ["member"], "{v}");
    let members = v["member"].as_array().expect("member is an array").clone();
    for m in &members {
        for (k, val) in m.as_object().expect("member item object") {
            match k.as_str() {
                "objectType" => assert_eq!(val, "SERVICE", "{m}"),
                "serviceType" | "instanceId" | "GovStackInstance" | "memberClass"
                | "memberCode" | "applicationCode" | "serviceCode" | "serviceVersion" => {
                    assert!(val.is_string(), "{m}")
                }
                "endpointList" => {
                    let el = val.as_object().expect("endpointList object");
                    assert_eq!(el.keys().collect::<Vec<_>>(), ["member"], "{m}");
                    let eps = val["member"].as_array().expect("endpoint array");
                    assert!(!eps.is_empty(), "{m}");
                    for e in eps {
                        let e = e.as_object().expect("endpoint object");
                        assert!(e.keys().all(|k| k == "method" || k == "path"), "{m}");
                        assert!(e["method"].is_string() && e["path"].is_string(), "{m}");
                    }
                }
                other => panic!("property {other} is not in restServiceDetailsType: {m}"),
            }
        }
        for k in ["objectType", "instanceId", "memberClass", "memberCode"] {
            assert!(m.get(k).is_some(), "{k} missing: {m}");
        }
    }
    members
}

fn parts(id: &str) -> [&str; 4] {
    let p: Vec<&str> = id.split('/').collect();
    [p[0], p[1], p[2], p[3]]
}

#[tokio::test]
async fn list_clients_in_govstack_form() {
    let f = fixture().await;
    // Both places the spec puts it: `/listClients` (Directory Services 1.0) and `/r1/
    // listClients` (the 0.3 API's server URL ends in `/r1`); GovStack's form when asked by
    // `instanceId`, the GovStack caller header, or the `/r1/listClients` path.
    let asks: [(&str, &[(&str, &str)]); 4] = [
        ("/listClients?instanceId=identifier", &[]),
        ("/r1/listClients?instanceId=identifier", &[]),
        (
            "/listClients?xRoadInstance=identifier",
            &[("Information-Mediator-Client", SUITE_CLIENT)],
        ),
        (
            "/listClients?xRoadInstance=identifier",
            &[("X-GovStack-Client", SUITE_CLIENT)],
        ),
    ];
    for (path, headers) in asks {
        let r = f.get(path, headers).await;
        assert_eq!(
            r.status,
            200,
            "{path}: {}",
            String::from_utf8_lossy(&r.body)
        );
        assert!(is_json_utf8(&r), "{path}: {}", content_type(&r));
        let members = assert_client_list(&r.json());
        // Lower-case member classes and codes, as configured; only the asked instance (the
        // other provider is in instance `a11a11a11a`).
        assert_eq!(members.len(), 1, "{path}: {members:?}");
        let id = &members
            .iter()
            .find(|m| m["id"]["applicationCode"] == "alp4aNum3r1c")
            .expect("the provider is listed")["id"];
        assert_eq!(id["objectType"], "APPLICATION");
        assert_eq!(id["instanceId"], "identifier");
        assert_eq!(id["memberClass"], "identifier");
        assert_eq!(id["memberCode"], "alp4aNum3r1c");
    }
    // Everyone, any instance: both providers' instances present.
    let r = f.get("/r1/listClients", &[]).await;
    let members = assert_client_list(&r.json());
    for p in [PROVIDER, PROVIDER_2] {
        let [i, c, m, a] = parts(p);
        assert!(
            members.iter().any(|x| x["id"]["instanceId"] == i
                && x["id"]["memberClass"] == c
                && x["id"]["memberCode"] == m
                && x["id"]["applicationCode"] == a),
            "{p} not in {members:?}"
        );
    }
    // The suite adds `serviceId` and names instances that do not exist: an empty list, 200.
    let r = f
        .get(
            "/listClients?serviceId=serviceId1&instanceId=instanceId1",
            &[],
        )
        .await;
    assert_eq!(r.status, 200);
    assert!(assert_client_list(&r.json()).is_empty());
    // The upstream suite sends its listClients request twice, the second time with the query
    // appended again: `instanceId` given twice is an error in the request, 400, not a guess
    // at which value was meant (docs/EXCHANGE.md, section 9, cause A).
    let r = f
        .get(
            "/listClients?serviceId=serviceId&instanceId=instanceId?serviceId=serviceId&instanceId=instanceId",
            &[],
        )
        .await;
    assert_eq!(r.status, 400, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json()["code"], "REQUEST_INVALID");
    assert!(is_json_utf8(&r), "{}", content_type(&r));
    // Hostile instance names are names of no instance: an empty list, never a server error.
    for q in ["%", "%FF", "..", "a%2Fb"] {
        let r = f.get(&format!("/listClients?instanceId={q}"), &[]).await;
        assert_eq!(r.status, 200, "{q}: {}", String::from_utf8_lossy(&r.body));
        assert!(assert_client_list(&r.json()).is_empty());
    }
    // The X-Road form is kept for X-Road clients.
    let r = f.get("/listClients", &[]).await;
    assert!(r.json()["member"][0]["id"]["object_type"].is_string());
    f.node.running.stop().await.unwrap();
}

#[tokio::test]
async fn list_methods_and_allowed_methods_in_govstack_form() {
    let f = fixture().await;
    let tok = format!("Bearer {}", f.token.plaintext);
    for prefix in ["/r1/", "/"] {
        // listMethods: every REST service of the provider, at the spec's place (`/r1/...`)
        // and the suite's (the root); `serviceId` (the spec's optional query) is accepted.
        let path = format!("{prefix}{PROVIDER}/listMethods?serviceId=serviceId1");
        let r = f
            .get(&path, &[("Information-Mediator-Client", SUITE_CLIENT)])
            .await;
        assert_eq!(
            r.status,
            200,
            "{path}: {}",
            String::from_utf8_lossy(&r.body)
        );
        assert!(is_json_utf8(&r), "{path}: {}", content_type(&r));
        let svcs = assert_service_list(&r.json());
        let codes: Vec<&str> = svcs
            .iter()
            .map(|s| s["serviceCode"].as_str().unwrap())
            .collect();
        assert_eq!(codes, [SVC, "verifikasi-identitas-batch"], "{path}");
        let s = &svcs[0];
        assert_eq!(s["serviceType"], "REST");
        assert_eq!(s["instanceId"], "identifier");
        assert_eq!(s["memberClass"], "identifier");
        assert_eq!(s["memberCode"], "alp4aNum3r1c");
        assert_eq!(s["applicationCode"], "alp4aNum3r1c");
        assert_eq!(s["endpointList"]["member"][0]["method"], "POST");

        // allowedMethods for a caller proven by its token: what its agreement covers.
        let path = format!("{prefix}{PROVIDER}/allowedMethods?serviceId=serviceId1");
        let r = f
            .get(
                &path,
                &[
                    ("Information-Mediator-Client", CLIENT),
                    ("Authorization", &tok),
                ],
            )
            .await;
        assert_eq!(
            r.status,
            200,
            "{path}: {}",
            String::from_utf8_lossy(&r.body)
        );
        assert!(is_json_utf8(&r));
        let svcs = assert_service_list(&r.json());
        assert_eq!(svcs.len(), 1, "{svcs:?}");
        assert_eq!(svcs[0]["serviceCode"], SVC);
        // The older header name of the spec works the same.
        let r = f
            .get(
                &path,
                &[("X-GovStack-Client", CLIENT), ("Authorization", &tok)],
            )
            .await;
        assert_eq!(assert_service_list(&r.json()).len(), 1);
        // A claimed caller that proves nothing learns nothing (issue 14, hole 9).
        let r = f
            .get(&path, &[("Information-Mediator-Client", SUITE_CLIENT)])
            .await;
        assert_eq!(r.status, 401, "{}", String::from_utf8_lossy(&r.body));
        assert!(!String::from_utf8_lossy(&r.body).contains(SVC));
        // No caller: what an anonymous caller may call, which is nothing; at the root still
        // GovStack's schema (at `/r1/` without a GovStack header, X-Road's form).
        let r = f.get(&path, &[]).await;
        assert_eq!(r.status, 200);
        if prefix == "/" {
            assert!(assert_service_list(&r.json()).is_empty());
        } else {
            assert_eq!(r.json(), serde_json::json!({"service": []}));
        }
    }
    // Only GET (and HEAD): the spec declares no other method.
    let r = send(
        &f.http,
        "POST",
        &format!("{}/{PROVIDER}/listMethods", f.node.base),
        &[],
        vec![],
    )
    .await;
    assert_eq!(r.status, 405);
    assert_eq!(r.headers["allow"], "GET, HEAD");
    f.node.running.stop().await.unwrap();
}

#[tokio::test]
async fn get_openapi_in_govstack_form() {
    let f = fixture().await;
    let h = [("Information-Mediator-Client", SUITE_CLIENT)];
    for prefix in ["/r1/", "/"] {
        for provider in [PROVIDER, PROVIDER_2] {
            let path = format!("{prefix}{provider}/getOpenAPI?serviceCode={SVC}");
            let r = f.get(&path, &h).await;
            assert_eq!(
                r.status,
                200,
                "{path}: {}",
                String::from_utf8_lossy(&r.body)
            );
            assert!(is_json_utf8(&r), "{path}: {}", content_type(&r));
            // The service's OpenAPI description itself (see docs/EXCHANGE.md on the
            // suite's `type: string`), describing exactly that service.
            let doc = r.json();
            assert!(doc["openapi"].as_str().unwrap().starts_with("3."), "{doc}");
            let paths: Vec<&String> = doc["paths"].as_object().unwrap().keys().collect();
            assert_eq!(paths, [&format!("/r1/{provider}/{SVC}")]);
        }
        // Errors in the request are 400: serviceCode missing, empty, or not a service code.
        for q in [
            "",
            "?serviceCode=",
            "?serviceCode=_invalid",
            "?serviceCode=a%2Fb",
        ] {
            let path = format!("{prefix}{PROVIDER}/getOpenAPI{q}");
            let r = f.get(&path, &h).await;
            assert_eq!(
                r.status,
                400,
                "{path}: {}",
                String::from_utf8_lossy(&r.body)
            );
            assert!(is_json_utf8(&r), "{path}: {}", content_type(&r));
        }
        // Identifiers the GovStack syntax refuses (the suite's "Invalid data" rows): 400.
        for provider in [
            "1nval1d/identifier/alp4aNum3r1c/alp4aNum3r1c",
            "identifier/1nval1d/alp4aNum3r1c/alp4aNum3r1c",
            "identifier/identifier/_invalid/alp4aNum3r1c",
            "identifier/identifier/str1ng/_invalid",
            "1nval1d/1nval1d/_invalid/_invalid",
        ] {
            let path = format!("{prefix}{provider}/getOpenAPI?serviceCode=alp4aNum3r1c");
            let r = f.get(&path, &h).await;
            assert_eq!(
                r.status,
                400,
                "{path}: {}",
                String::from_utf8_lossy(&r.body)
            );
            for m in ["listMethods", "allowedMethods"] {
                let r = f.get(&format!("{prefix}{provider}/{m}"), &h).await;
                assert_eq!(r.status, 400, "{prefix}{provider}/{m}");
            }
        }
        // A well-formed code the provider does not offer, a provider this node does not
        // host: not found.
        let r = f
            .get(
                &format!("{prefix}{PROVIDER}/getOpenAPI?serviceCode=alp4aNum3r1c"),
                &h,
            )
            .await;
        assert_eq!(r.status, 404);
        let r = f
            .get(
                &format!("{prefix}valid1dentifi3r/rand0mid3nt/str1ng/azxcv55/listMethods"),
                &h,
            )
            .await;
        assert_eq!(r.status, 404);
    }
    f.node.running.stop().await.unwrap();
}

/// The node's own error messages name their character encoding, as every other JSON answer
/// of the directory does: IM 1.1, 14.1.6.2, "The REST messages originating from the Security
/// Server (e.g. error messages) MUST include the header and indicate the content's type and
/// character encoding with it."
#[tokio::test]
async fn errors_name_their_content_type_and_charset() {
    let f = fixture().await;
    let h = [("Information-Mediator-Client", SUITE_CLIENT)];
    type Ask<'a> = (&'a str, &'a str, &'a [(&'a str, &'a str)], u16);
    let asks: [Ask; 6] = [
        // A malformed serviceCode, a malformed provider.
        (
            "GET",
            "/identifier/identifier/alp4aNum3r1c/alp4aNum3r1c/getOpenAPI?serviceCode=_invalid",
            &h,
            400,
        ),
        (
            "GET",
            "/1nval1d/identifier/alp4aNum3r1c/alp4aNum3r1c/listMethods",
            &h,
            400,
        ),
        // A claimed caller that proves nothing.
        (
            "GET",
            "/r1/identifier/identifier/alp4aNum3r1c/alp4aNum3r1c/allowedMethods",
            &h,
            401,
        ),
        // A provider not hosted here; a route that does not exist.
        (
            "GET",
            "/r1/valid1dentifi3r/rand0mid3nt/str1ng/azxcv55/listMethods",
            &h,
            404,
        ),
        ("GET", "/no/such/route", &[], 404),
        ("POST", "/listClients", &[], 405),
    ];
    for (method, path, headers, status) in asks {
        let hs: Vec<(String, String)> = headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let r = send(
            &f.http,
            method,
            &format!("{}{path}", f.node.base),
            &hs,
            vec![],
        )
        .await;
        assert_eq!(
            r.status,
            status,
            "{method} {path}: {}",
            String::from_utf8_lossy(&r.body)
        );
        assert!(is_json_utf8(&r), "{method} {path}: {:?}", content_type(&r));
        let v = r.json();
        assert!(v["code"].is_string() && v["message"].is_string(), "{v}");
    }
    f.node.running.stop().await.unwrap();
}

/// The node `bench/govstack/run_suite.sh` runs the upstream suite against: its configuration
/// stays valid and hosts the four providers of the suite's `test-data.json`, on the suite's
/// own port.
#[test]
fn the_suite_node_configuration_hosts_the_suites_providers() {
    let c = sinergi_server::NodeConfig::parse(
        "bench/govstack/node.toml",
        include_str!("../../../../bench/govstack/node.toml"),
    )
    .expect("bench/govstack/node.toml is a valid node configuration");
    let ids: Vec<String> = c.members.iter().map(|m| m.id.to_string()).collect();
    assert_eq!(
        ids,
        [
            PROVIDER,
            PROVIDER_2,
            "a552example/zzz321a/m3mb3rc0d3/aa15",
            "valid1dentifi3r/rand0mid3nt/str1ng/azxcv55",
        ]
    );
    assert!(c.members.iter().all(|m| m.services == ["alp4aNum3r1c"]));
    assert_eq!(c.listen.port(), 3366);
}
