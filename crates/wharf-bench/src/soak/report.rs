//! The soak's table and checks.

use std::collections::BTreeMap;

use wharf_testkit::Fault;

use super::{Scenario, Tally};
use crate::wrk::WrkResult;

pub(super) struct Report {
    /// Which relay driver ran.
    pub driver: &'static str,
    /// The scenarios that apply to it.
    pub scenarios: Vec<Scenario>,
    pub secs: u64,
    pub tallies: BTreeMap<Scenario, Tally>,
    pub faults_seen: BTreeMap<Fault, u64>,
    pub wrk: Result<WrkResult, String>,
    /// Before the load, and once settled after it.
    pub fds: (usize, Option<usize>),
    /// Rested, peak during the load, after it.
    pub rss: (u64, u64, Option<u64>),
    /// How much the RSS may grow.
    pub budget: u64,
    /// The Worker's Wasm memory before and after the load.
    pub wasm_memory: Option<(u64, u64)>,
    pub healthy: bool,
}

const MIB: f64 = 1048576.0;

impl Report {
    /// Markdown, and whether every check passed.
    pub fn render(&self) -> (String, bool) {
        let mut md = format!(
            "## Soak of {} for {} s (`cargo xtask soak --secs {}`)\n\n\
             | scenario | transfers | as expected | unexpected | wrong bytes | verified MB |\n\
             | --- | ---: | ---: | ---: | ---: | ---: |\n",
            self.driver, self.secs, self.secs
        );
        for (scenario, t) in &self.tallies {
            md.push_str(&format!(
                "| {scenario:?} | {} | {} | {} | {} | {:.1} |\n",
                t.runs,
                t.expected,
                t.unexpected,
                t.wrong,
                t.verified as f64 / 1e6
            ));
        }
        let checks = self.checks();
        md.push_str("\n| check | value | passed |\n| --- | --- | --- |\n");
        for (name, value, ok) in &checks {
            md.push_str(&format!("| {name} | {value} | {} |\n", yes(*ok)));
        }
        for (scenario, t) in &self.tallies {
            if let Some(why) = &t.first_unexpected {
                md.push_str(&format!("\nfirst unexpected {scenario:?}: {why}\n"));
            }
        }
        let faults: Vec<String> = self
            .faults_seen
            .iter()
            .map(|(f, n)| format!("{} {n}", f.name()))
            .collect();
        md.push_str(&format!(
            "\nrequests the fault front saw: {}\n",
            faults.join(", ")
        ));
        let passed = checks.iter().all(|(_, _, ok)| *ok);
        (md, passed)
    }

    fn checks(&self) -> Vec<(&'static str, String, bool)> {
        let sum = |f: fn(&Tally) -> u64| self.tallies.values().map(f).sum::<u64>();
        let (fds_before, fds_after) = self.fds;
        let (rested, peak, after) = self.rss;
        let growth = peak.saturating_sub(rested);
        let every = self
            .scenarios
            .iter()
            .all(|s| self.tallies.get(s).is_some_and(|t| t.runs > 0));
        let wrk = match &self.wrk {
            Ok(w) => (
                format!("{:.0} manifests/s, {} errors", w.requests_per_sec, w.errors),
                w.errors == 0,
            ),
            Err(e) => (format!("failed: {e}"), false),
        };
        let mut checks = vec![
            (
                "relay alive and /healthz answers",
                self.healthy.to_string(),
                self.healthy,
            ),
            (
                "completed transfers with wrong bytes",
                sum(|t| t.wrong).to_string(),
                sum(|t| t.wrong) == 0,
            ),
            (
                "transfers that did not end as their fault says",
                sum(|t| t.unexpected).to_string(),
                sum(|t| t.unexpected) == 0,
            ),
            ("every scenario ran", every.to_string(), every),
            ("wrk through the relay (manifests)", wrk.0, wrk.1),
            (
                "relay file descriptors before / after (settled)",
                format!(
                    "{fds_before} / {}",
                    fds_after.map_or("gone".into(), |n| n.to_string())
                ),
                fds_after.is_some_and(|n| n <= fds_before),
            ),
            (
                "relay RSS rested / peak / after (MiB)",
                format!(
                    "{:.1} / {:.1} / {}",
                    rested as f64 / MIB,
                    peak as f64 / MIB,
                    after.map_or("gone".into(), |a| format!("{:.1}", a as f64 / MIB))
                ),
                growth < self.budget,
            ),
        ];
        if let Some((before, after)) = self.wasm_memory {
            checks.push((
                "the Worker's Wasm memory before / after (MiB)",
                format!("{:.2} / {:.2}", before as f64 / MIB, after as f64 / MIB),
                // Concurrent requests may take a few more 64 KiB pages once; a leak takes more.
                after <= before + (1 << 20),
            ));
        }
        checks
    }
}

fn yes(ok: bool) -> &'static str {
    if ok {
        "yes"
    } else {
        "**no**"
    }
}
