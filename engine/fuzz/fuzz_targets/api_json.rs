//! The JSON request bodies the api layer decodes (container create, update, exec create/start,
//! volume and network create, X-Registry-Auth) through `api::body` and `model::go_keys`, followed
//! by the create-time checks that need no engine. Any input must end in a value or a typed error,
//! never a panic.
#![no_main]

use berth_engine::api::body::{json_or_default, shaped_json, shaped_json_or_default};
use berth_engine::model::container::CreateRequest;
use berth_engine::model::go_keys;
use berth_engine::model::health;
use berth_engine::model::volume::VolumeCreateRequest;
use berth_engine::network::ipam::{self, Ipv4Net};
use berth_engine::registry::auth::Credentials;
use berth_engine::service::container::exec::{ExecConfig, StartOptions};
use berth_engine::service::container::update::UpdateRequest;
use berth_engine::service::container::{log_driver, names, restart, shared_net};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    if let Ok(Some(req)) = shaped_json::<CreateRequest>(data, &go_keys::CONTAINER_CREATE) {
        let _ = health::validate(req.config.healthcheck.as_ref());
        if let Some(host) = &req.host_config {
            let _ = restart::validate(host);
            let _ = log_driver::validate(&host.log_config);
            let _ = shared_net::validate(&req.config, host);
        }
        let _ = names::validate(&req.config.hostname);
    }
    let _ = shaped_json_or_default::<UpdateRequest>(data, &go_keys::HOST_CONFIG);
    let _ = shaped_json_or_default::<ExecConfig>(data, &go_keys::EXEC_CREATE);
    let _ = shaped_json_or_default::<StartOptions>(data, &go_keys::EXEC_START);
    let _ = json_or_default::<VolumeCreateRequest>(data);
    let _ = json_or_default::<Credentials>(data);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = Credentials::from_header(text);
    }
    // Network create reads its body as a JSON value; the strings it parses are these.
    if let Ok(body) = json_or_default::<Value>(data) {
        if let Some(config) = body.pointer("/IPAM/Config/0") {
            for key in ["Subnet", "IPRange", "Gateway"] {
                if let Some(s) = config.get(key).and_then(Value::as_str) {
                    let _ = s.parse::<Ipv4Net>();
                    let _ = ipam::parse_range(s);
                }
            }
        }
        if let Some(mtu) = body
            .pointer("/Options/com.docker.network.driver.mtu")
            .and_then(Value::as_str)
        {
            let _ = berth_engine::network::parse_mtu(mtu);
        }
    }
});
