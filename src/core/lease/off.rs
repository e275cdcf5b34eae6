//! `Lease` in a build without shared mode: a type with no values. The engine holds an
//! `Option<Lease>` that can only be `None`, so the compiler drops every branch that would use one;
//! the methods below exist for those branches to type-check and can never run.

use super::{Change, LeaseRequest, Mode};

#[derive(Debug, Clone)]
pub enum Lease {}

impl Lease {
    pub fn mode(&self) -> Mode {
        match *self {}
    }

    pub fn wants(&self) -> bool {
        match *self {}
    }

    pub fn deposit(&mut self, _now: f64) {
        match *self {}
    }

    pub fn withdraw(&mut self, _now: f64) -> bool {
        match *self {}
    }

    pub fn poll(&mut self, _now: f64) -> Option<(LeaseRequest, f64)> {
        match *self {}
    }

    pub fn answer(&mut self, _id: u32, _answer: Option<(u32, f64)>, _now: f64) -> Option<Change> {
        match *self {}
    }

    pub fn timer(&self) -> Option<f64> {
        match *self {}
    }

    pub fn timeout(&mut self, _now: f64) -> Option<Change> {
        match *self {}
    }

    pub fn balance(&self, _now: f64) -> u64 {
        match *self {}
    }

    pub fn leased(&self, _now: f64) -> u64 {
        match *self {}
    }

    pub fn exhausted(&self) -> u64 {
        match *self {}
    }
}
