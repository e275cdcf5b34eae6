//! Replacing the routes while calls are in progress (service discovery, a mirror added during
//! an incident): the routes whose identity remains keep what they learnt, and the calls in
//! progress keep working.

use super::*;
use crate::core::config::RouteConfig;

impl Engine {
    /// Runs `routes` from now on (validated: `Config::validated` leaves them so). A route whose
    /// name and URL remain keeps its score, ejection and counters; the config (its canonical
    /// form, its fingerprint) names the new routes. A call in progress keeps its attempts: one in
    /// flight on a route that remains is recorded there when it ends, one on a route that went is
    /// recorded nowhere; its next attempt is routed among the new routes, or, when there are none,
    /// goes to the URL it was called with.
    pub fn set_routes(&mut self, routes: Vec<RouteConfig>, now: f64) {
        let moved = self.routing.replace(&routes);
        let to = |r: usize| moved.get(r).copied().flatten();
        let routed = !routes.is_empty();
        for call in self.calls.values_mut() {
            for f in call.flights.iter_mut() {
                f.route = f.route.and_then(to);
            }
            call.failed_routes.retain_mut(|r| match to(*r) {
                Some(n) => {
                    *r = n;
                    true
                }
                None => false,
            });
            if !routed {
                call.remainder = None;
                call.addressed = None;
            }
        }
        self.cfg.routes = routes;
        // Only a build with state snapshots (the `server` feature) can hold others' state.
        if cfg!(feature = "server") {
            self.follow_others(now);
        }
    }
}
