//! stormglass-web: the browser surface of Stormglass.
//!
//! Mechanical by design (see DESIGN.md): it converts between JavaScript and the core, and
//! draws. No simulation semantics live here.
//!
//! ```text
//!  worker.js --RunHandle(json).step(s)..report()--> plain JS object --postMessage--> app.js
//!  app.js --new Figures({report, faults, topology})--> draw_chart / draw_graph at the time cursor
//! ```
//!
//! Modules: `api` (the wasm-bindgen exports), `errors` (errors as JS objects with field
//! paths), `view` (the report as the drawing code reads it), `charts` (plotters time charts),
//! `graph` (the event graph), `canvas` (high-DPI sizing and the plotters backend), `svg`
//! (charts as SVG documents), `format` (numbers for people), `compare` (A/B variants and
//! seeds: the summary's rows, the charts' overlay), `spread` (percentiles across seeds),
//! `links` (share links), `palette` (the one set of colours), `topology` (edge paths and
//! policies, load balancers' pools: the scenario's structure the report does not carry).

mod api;
mod canvas;
mod charts;
mod compare;
mod errors;
pub mod format;
mod graph;
mod links;
pub mod palette;
mod spread;
mod svg;
mod topology;
mod view;

pub use api::*;
pub use links::*;
