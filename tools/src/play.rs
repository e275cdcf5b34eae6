//! Playback: a run paced at N times real time, one frame per tick, for a page that shows a
//! scenario unfold (the same `Run` that `simulate` finishes at once: the same series for the
//! same seed).
//!
//! gloo-timers does the pacing: between frames the run awaits a `TimeoutFuture`, so the page
//! stays responsive and a stop (an `AbortSignal`) is seen at the next frame. Frames come at most
//! every 16 ms (a display refresh); at higher speeds a frame carries several simulated seconds.

use crate::wasm::{error, options_from, scenario_from, to_js};
use ballast_fetch::sim::series::{Point, TimelineEvent};
use ballast_fetch::sim::Run;
use gloo_timers::future::TimeoutFuture;
use serde::Serialize;
use wasm_bindgen::prelude::*;

/// The shortest wait between frames, ms.
const FRAME_MS: f64 = 16.0;

#[derive(Serialize)]
struct Frame<'a> {
    /// Seconds simulated so far.
    t: f64,
    /// The seconds this frame closed, and the timeline events that happened in them.
    points: &'a [Point],
    events: &'a [TimelineEvent],
}

/// Plays a scenario at `speed` simulated seconds per real second, calling `on_frame(frame)` as it
/// goes; resolves with the whole output (`simulate`'s) when the run ends, or with what ran so far
/// when `signal` aborts it (`summary.durationMs` then says how far it got).
#[wasm_bindgen]
pub async fn play(
    scenario: JsValue,
    options: JsValue,
    speed: f64,
    on_frame: js_sys::Function,
    signal: Option<web_sys::AbortSignal>,
) -> Result<JsValue, JsValue> {
    if !(speed.is_finite() && speed > 0.0) {
        return Err(error(crate::input::InputError {
            input: "options",
            path: "speed".into(),
            problem: format!(
                "got {speed}; allowed: a positive number (simulated seconds per second)"
            ),
        }));
    }
    let s = scenario_from(scenario).map_err(error)?;
    let o = options_from(options).map_err(error)?;
    let mut run = Run::new(&s, &o).map_err(|e| {
        error(crate::input::InputError {
            input: "options",
            path: e.path,
            problem: format!("allowed: {}", e.allowed),
        })
    })?;
    let wait_ms = (1000.0 / speed).max(FRAME_MS);
    let per_frame = ((speed * wait_ms / 1000.0).round() as usize).max(1);
    let (mut points, mut events) = run.progress();
    loop {
        if signal.as_ref().is_some_and(|s| s.aborted()) {
            // What ran so far: the output of a run as long as this one got.
            return to_js(&crate::wasm::Run::of(&run.finish_so_far()));
        }
        let mut more = true;
        for _ in 0..per_frame {
            more = run.step();
            if !more {
                break;
            }
        }
        let (p, e) = run.progress();
        let (new_points, new_events) = run.since(points, events);
        let frame = Frame {
            t: p as f64,
            points: &new_points,
            events: &new_events,
        };
        on_frame.call1(&JsValue::NULL, &to_js(&frame)?)?;
        (points, events) = (p, e);
        if !more {
            break;
        }
        TimeoutFuture::new(wait_ms as u32).await;
    }
    to_js(&crate::wasm::Run::of(&run.finish()))
}
