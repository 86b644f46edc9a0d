//! Share links for the page: the core's codec (`stormglass_core::share_link`) behind two
//! exports. A link is untrusted input: every failure is a JS `Error` whose `errors` entry has
//! kind `"link"` and the core's plain-words message.

use serde::Serialize;
use serde_json::Value;
use stormglass_core::{decode_link, encode_link, LinkError};
use wasm_bindgen::prelude::*;

use crate::errors::{link as link_error, to_js};

/// Makes the fragment (without `#`) for a scenario (JSON text) and, optionally, the page's
/// view state (JSON text of an object).
#[wasm_bindgen]
pub fn make_link(scenario_json: &str, view_json: Option<String>) -> Result<String, JsValue> {
    let scenario: Value = serde_json::from_str(scenario_json)
        .map_err(|error| link_error("scenario", &format!("the scenario is not valid JSON: {error}")))?;
    let view: Option<Value> = view_json
        .map(|text| serde_json::from_str(&text))
        .transpose()
        .map_err(|error| link_error("view", &format!("the view is not valid JSON: {error}")))?;
    encode_link(&scenario, view.as_ref()).map_err(|error| from_link_error(&error))
}

/// What a link opens to.
#[derive(Serialize)]
struct OpenedLink {
    /// The scenario as compact JSON text, exactly as the link has it (keys sorted: the page
    /// orders them for reading).
    scenario_json: String,
    /// The view state the link carries (untrusted: the page checks each field), or null.
    view: Option<Value>,
}

/// Opens a link: the fragment with or without `#`, or a whole address.
#[wasm_bindgen]
pub fn open_link(fragment: &str) -> Result<JsValue, JsValue> {
    let decoded = decode_link(fragment).map_err(|error| from_link_error(&error))?;
    to_js(&OpenedLink { scenario_json: decoded.scenario.to_string(), view: decoded.view })
}

fn from_link_error(error: &LinkError) -> JsValue {
    link_error(error.code(), &error.to_string())
}
