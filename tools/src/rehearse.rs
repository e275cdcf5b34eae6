//! `rehearse`: a config played against scenarios next to the naive policy, judged by thresholds,
//! so a CI job can refuse a config that turns an outage into a retry storm.
//!
//! Each scenario runs twice on the same seed: the config (with the scenario's routes when it has
//! none, matched by name or position otherwise) and `naive`. Thresholds judge the config's runs
//! only; naive is the yardstick shown beside them.

use crate::input::InputError;
use ballast_fetch::core::config::Config;
use ballast_fetch::sim::scenario::Scenario;
use ballast_fetch::sim::{simulate, Options, Policy, Summary};
use serde::Serialize;

/// The limits a config's runs must stay within.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Thresholds {
    /// Attempts per call, at most.
    pub max_amplification: f64,
    /// Share of calls that succeed, at least.
    pub min_success: f64,
}

impl Default for Thresholds {
    /// An outage must not double the load on the origins; success is not judged unless asked
    /// (some scenarios cannot be served: an outage without a fallback).
    fn default() -> Self {
        Thresholds {
            max_amplification: 2.0,
            min_success: 0.0,
        }
    }
}

/// One scenario's two runs.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub scenario: String,
    pub config: Summary,
    pub naive: Summary,
}

/// A threshold a run broke.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Breach {
    pub scenario: String,
    /// `amplification` or `successRate`.
    pub metric: &'static str,
    pub value: f64,
    pub limit: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub seed: u64,
    pub thresholds: Thresholds,
    pub rows: Vec<Row>,
    pub breaches: Vec<Breach>,
}

impl Report {
    pub fn passed(&self) -> bool {
        self.breaches.is_empty()
    }
}

/// Runs `config` and `naive` on every scenario with `seed`, and judges the config's runs.
pub fn rehearse(
    config: &Config,
    scenarios: &[Scenario],
    seed: u64,
    thresholds: Thresholds,
) -> Result<Report, InputError> {
    let mut rows = Vec::new();
    let mut breaches = Vec::new();
    for (i, s) in scenarios.iter().enumerate() {
        let run = |policy: Policy| {
            simulate(
                s,
                &Options {
                    policy,
                    seed,
                    ..Options::default()
                },
            )
            .map(|o| o.summary)
            .map_err(|e| InputError {
                input: if e.path.starts_with("policy.") {
                    "config"
                } else {
                    "scenario"
                },
                path: e.path.strip_prefix("policy.").unwrap_or(&e.path).to_owned(),
                problem: format!("in scenario {i} ({:?}): allowed: {}", s.name, e.allowed),
            })
        };
        let mine = run(Policy::Config(Box::new(config.clone())))?;
        let naive = run(Policy::Naive)?;
        if mine.amplification > thresholds.max_amplification {
            breaches.push(Breach {
                scenario: s.name.clone(),
                metric: "amplification",
                value: mine.amplification,
                limit: thresholds.max_amplification,
            });
        }
        if mine.success_rate < thresholds.min_success {
            breaches.push(Breach {
                scenario: s.name.clone(),
                metric: "successRate",
                value: mine.success_rate,
                limit: thresholds.min_success,
            });
        }
        rows.push(Row {
            scenario: s.name.clone(),
            config: mine,
            naive,
        });
    }
    Ok(Report {
        seed,
        thresholds,
        rows,
        breaches,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ballast_fetch::sim::presets;

    #[test]
    fn the_defaults_pass_where_a_blind_retry_config_breaks_the_amplification_limit() {
        let scenarios = vec![presets::by_name("primary-outage").unwrap()];
        let good = rehearse(&Config::default(), &scenarios, 1, Thresholds::default()).unwrap();
        assert!(good.passed(), "{:?}", good.breaches);
        let row = &good.rows[0];
        assert!(
            row.config.amplification < row.naive.amplification,
            "{row:?}"
        );

        // Blind retries on the primary alone: five tries, no backoff, no budget to speak of (a
        // config without routes is given the scenario's, so the primary is named).
        let mut blind = ballast_fetch::sim::config_for(&scenarios[0], &Policy::Naive);
        blind.retry.max_attempts = 5;
        blind.routes = ballast_fetch::sim::config_for(&scenarios[0], &Policy::Ballast).routes;
        blind.routes.truncate(1);
        let bad = rehearse(&blind, &scenarios, 1, Thresholds::default()).unwrap();
        assert!(
            bad.breaches.iter().any(|b| b.metric == "amplification"),
            "{:?}",
            bad.rows[0].config
        );
    }

    #[test]
    fn min_success_is_judged_when_asked() {
        let scenarios = vec![presets::by_name("primary-outage").unwrap()];
        let t = Thresholds {
            max_amplification: 100.0,
            min_success: 1.01,
        };
        let r = rehearse(&Config::default(), &scenarios, 1, t).unwrap();
        assert_eq!(r.breaches.len(), 1);
        assert_eq!(r.breaches[0].metric, "successRate");
    }
}
