//! The per-call raster, drawn straight into a canvas: each traced call a row, each attempt a tick
//! from when it was sent to when it ended, coloured by how it ended.
//!
//! Why in Rust: a run traces thousands of calls with several attempts each; filling one RGBA
//! buffer and handing it to the canvas once (`putImageData`, through web-sys) costs a fraction of
//! a canvas call per tick from JS, and the page redraws it on every slider move.

use crate::wasm::to_js;
use ballast_fetch::sim::series::TaskTrace;
use wasm_bindgen::prelude::*;
use wasm_bindgen::Clamped;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement, ImageData};

/// A call's life between and after its attempts.
const LIFE: [u8; 4] = [200, 200, 200, 255];

/// RGBA by outcome. Colour-blind-safe (Okabe-Ito): success blue, error statuses orange, network
/// errors vermillion, timeouts purple, aborted (a lost hedge, a caller's abort) grey, still running
/// at the end of the run sky blue; a shed call (refused before any attempt) is a black dot.
const COLOURS: [(&str, [u8; 4]); 7] = [
    ("ok", [0, 114, 178, 255]),
    ("status", [230, 159, 0, 255]),
    ("network", [213, 94, 0, 255]),
    ("timeout", [204, 121, 167, 255]),
    ("aborted", [150, 150, 150, 255]),
    ("running", [86, 180, 233, 255]),
    ("shed", [0, 0, 0, 255]),
];

fn colour(outcome: Option<&str>) -> [u8; 4] {
    let key = outcome.unwrap_or("running");
    COLOURS
        .iter()
        .find(|(k, _)| *k == key)
        .map_or(COLOURS[5].1, |(_, c)| *c)
}

/// Draws `tasks` (a run's `tasks`) over `[from_s, to_s]` (seconds) into `canvas`, at its pixel
/// size. Returns `{ rows, ticks, legend }`: how many calls and attempts it drew, and the colours.
#[wasm_bindgen(js_name = drawRaster)]
pub fn draw_raster(
    canvas: &HtmlCanvasElement,
    tasks: JsValue,
    from_s: f64,
    to_s: f64,
) -> Result<JsValue, JsValue> {
    let tasks: Vec<TaskTrace> = serde_wasm_bindgen::from_value(tasks)
        .map_err(|e| JsValue::from(js_sys::Error::new(&format!("drawRaster: tasks: {e}"))))?;
    let (w, h) = (canvas.width(), canvas.height());
    if w == 0 || h == 0 || to_s.partial_cmp(&from_s) != Some(core::cmp::Ordering::Greater) {
        return to_js(&Drawn {
            rows: 0,
            ticks: 0,
            legend: legend(),
        });
    }
    let ctx: CanvasRenderingContext2d = canvas
        .get_context("2d")?
        .ok_or_else(|| {
            JsValue::from(js_sys::Error::new(
                "drawRaster: the canvas has no 2d context",
            ))
        })?
        .dyn_into()?;
    let mut buf = vec![0u8; (w * h * 4) as usize];
    let rows = tasks.len().max(1) as f64;
    let px = |s: f64| {
        (((s - from_s) / (to_s - from_s)) * f64::from(w)).clamp(0.0, f64::from(w - 1)) as u32
    };
    let mut ticks = 0;
    let mut fill = |y0: u32, y1: u32, x0: u32, x1: u32, c: [u8; 4]| {
        for y in y0..y1.max(y0 + 1).min(h) {
            for x in x0..=x1.min(w - 1) {
                let o = ((y * w + x) * 4) as usize;
                buf[o..o + 4].copy_from_slice(&c);
            }
        }
    };
    for (i, t) in tasks.iter().enumerate() {
        let y0 = ((i as f64 / rows) * f64::from(h)) as u32;
        let y1 = ((((i + 1) as f64) / rows) * f64::from(h))
            .ceil()
            .min(f64::from(h)) as u32;
        // The call's life, from its start to its last attempt's end, faintly; its attempts over it.
        let end = t
            .attempts
            .iter()
            .map(|a| t.t + (a.at + a.ms.unwrap_or(f64::INFINITY)) / 1000.0)
            .fold(t.t, f64::max)
            .min(to_s);
        if t.attempts.is_empty() && t.result.as_deref() == Some("shed") {
            fill(y0, y1, px(t.t), px(t.t) + 1, colour(Some("shed")));
            continue;
        }
        fill(y0, y1, px(t.t), px(end), LIFE);
        for a in &t.attempts {
            let start = t.t + a.at / 1000.0;
            let end = a.ms.map_or(to_s, |ms| start + ms / 1000.0);
            // At least two pixels wide: a 50 ms attempt in a minute-long window stays visible.
            let (x0, x1) = (px(start), px(end).max(px(start) + 1));
            fill(y0, y1, x0, x1, colour(a.outcome.as_deref()));
            ticks += 1;
        }
    }
    let img = ImageData::new_with_u8_clamped_array_and_sh(Clamped(&buf), w, h)?;
    ctx.put_image_data(&img, 0.0, 0.0)?;
    to_js(&Drawn {
        rows: tasks.len(),
        ticks,
        legend: legend(),
    })
}

#[derive(serde::Serialize)]
struct Drawn {
    rows: usize,
    ticks: usize,
    /// Each outcome's colour as CSS (`#rrggbb`), and the call's life (`waiting`), for a legend.
    legend: std::collections::BTreeMap<&'static str, String>,
}

fn legend() -> std::collections::BTreeMap<&'static str, String> {
    let css = |c: [u8; 4]| format!("#{:02x}{:02x}{:02x}", c[0], c[1], c[2]);
    let mut m: std::collections::BTreeMap<_, _> =
        COLOURS.iter().map(|(k, c)| (*k, css(*c))).collect();
    m.insert("waiting", css(LIFE));
    m
}
