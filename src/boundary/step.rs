//! A step's output: its header and the actions it produced, fixed width (`ACTION_FIELDS`).

use super::*;

/// What one step produced: the header and actions (`nums`), and the values its actions refer to.
#[derive(Default)]
pub struct StepOut {
    pub nums: Vec<f64>,
    pub detail: Tape,
    detail_items: u32,
}

impl StepOut {
    /// Starts a step's output: `task` (`begin`) and the header's other fields filled by `finish`.
    pub fn begin(&mut self, task: Option<TaskId>) {
        self.nums.clear();
        self.detail.clear();
        self.detail_items = 0;
        self.nums
            .extend([task.map_or(-1.0, |t| t.to_bits() as f64), -1.0, 0.0, 0.0]);
    }

    fn detail_index(&mut self) -> f64 {
        self.detail_items += 1;
        f64::from(self.detail_items - 1)
    }

    /// Appends an action.
    pub fn action(&mut self, a: &Action) {
        let (kind, task, attempt, args) = match a {
            Action::Start(s) => {
                let flags = u32::from(s.strip_credentials) | (u32::from(s.hedge) << 1);
                let url = match &s.url {
                    Some(u) => {
                        let i = self.detail_index();
                        self.detail.str(u);
                        i
                    }
                    None => -1.0,
                };
                let route = s.route.map_or(-1.0, |r| r as f64);
                (0.0, s.task, s.attempt, [route, f64::from(flags), url])
            }
            Action::Abort {
                task,
                attempt,
                reason,
            } => (
                1.0,
                *task,
                *attempt,
                [index_of(&AbortReason::ALL, reason), 0.0, 0.0],
            ),
            Action::Settle { task, settlement } => match settlement {
                Settlement::Response { attempt } => (2.0, *task, *attempt, [0.0; 3]),
                Settlement::Aborted => (3.0, *task, 0, [0.0; 3]),
                Settlement::Deadline => (4.0, *task, 0, [0.0; 3]),
                Settlement::Failed(f) => {
                    let i = self.detail_index();
                    self.detail.failed(f);
                    (5.0, *task, 0, [i, 0.0, 0.0])
                }
            },
            Action::Consult {
                task,
                attempt,
                retry,
                delay_ms,
            } => (
                6.0,
                *task,
                *attempt,
                [f64::from(u8::from(*retry)), *delay_ms, 0.0],
            ),
        };
        self.nums.extend([
            kind,
            task.to_bits() as f64,
            f64::from(attempt),
            args[0],
            args[1],
            args[2],
        ]);
        self.nums[3] += 1.0;
    }

    /// Completes the header: the next timeout, and whether events, detail or a lease request
    /// wait.
    pub fn finish(&mut self, timeout: Option<f64>, events: bool, lease: bool) {
        self.nums[1] = timeout.unwrap_or(-1.0);
        let mut pending = 0;
        if events {
            pending |= PENDING_EVENTS;
        }
        if self.detail_items > 0 {
            pending |= PENDING_DETAIL;
        }
        if lease {
            pending |= PENDING_LEASE;
        }
        self.nums[2] = f64::from(pending);
    }
}
