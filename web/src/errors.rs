//! Errors handed to JavaScript. Every failure is a JS `Error` whose `errors` property lists
//! `{path, kind, message}` entries, the same shape as the core's scenario errors, so the page
//! has one way to show a problem and the field it concerns. Nothing here panics.

use serde::Serialize;
use stormglass_core::scenario::ScenarioErrors;
use wasm_bindgen::JsValue;

/// One problem, in the shape of `stormglass_core::ScenarioError`.
#[derive(Serialize)]
pub struct Problem<'a> {
    pub path: &'a str,
    pub kind: &'a str,
    pub message: &'a str,
}

/// Serialises for JS: maps as plain objects (not `Map`), `None` as `null`.
pub fn to_js<T: Serialize + ?Sized>(value: &T) -> Result<JsValue, JsValue> {
    let serializer =
        serde_wasm_bindgen::Serializer::new().serialize_maps_as_objects(true).serialize_missing_as_null(true);
    value
        .serialize(&serializer)
        .map_err(|error| internal(&format!("could not convert a result for JavaScript: {error}")))
}

/// A JS `Error` named `name`, with the message and an `errors` array.
fn error_object<T: Serialize + ?Sized>(name: &str, message: &str, errors: &T) -> JsValue {
    let error = js_sys::Error::new(message);
    error.set_name(name);
    let list = to_js(errors).unwrap_or_else(|_| js_sys::Array::new().into());
    // Setting a property on a fresh Error cannot fail; if it somehow did, the message remains.
    let _ = js_sys::Reflect::set(&error, &JsValue::from_str("errors"), &list);
    error.into()
}

/// An invalid scenario: every problem with its field path.
pub fn scenario(errors: &ScenarioErrors) -> JsValue {
    error_object("ScenarioError", &format!("invalid scenario: {errors}"), &errors.0)
}

/// A bad argument from JavaScript, like a negative step.
pub fn argument(path: &str, message: &str) -> JsValue {
    let problem = Problem { path, kind: "invalid", message };
    error_object("ArgumentError", &format!("{path}: {message}"), &[problem])
}

/// A share link that cannot be made or opened; `code` says which problem (`corrupt`,
/// `truncated`, ..., as the `code` property), the message says it in plain words.
pub fn link(code: &str, message: &str) -> JsValue {
    let problem = Problem { path: "", kind: "link", message };
    let error = error_object("LinkError", message, &[problem]);
    // As for `errors`, setting a property on a fresh Error cannot fail.
    let _ = js_sys::Reflect::set(&error, &JsValue::from_str("code"), &JsValue::from_str(code));
    error
}

/// Something that should not happen (a canvas refusing to draw, a conversion failing).
pub fn internal(message: &str) -> JsValue {
    let problem = Problem { path: "", kind: "internal", message };
    error_object("StormglassError", message, &[problem])
}
