//! Samples, rows and the report: medians with min and max, ratios against anchors, goals, and
//! the Markdown / JSON forms written to `target/bench/`.

use serde_json::{json, Value};

/// Median, min and max of a set of samples.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stats {
    pub median: f64,
    pub min: f64,
    pub max: f64,
    pub runs: usize,
}

impl Stats {
    /// `None` for no samples or a sample that is not a finite number. The median of an even
    /// count is the mean of the two middle samples.
    pub fn of(samples: &[f64]) -> Option<Stats> {
        if samples.is_empty() || samples.iter().any(|s| !s.is_finite()) {
            return None;
        }
        let mut sorted = samples.to_vec();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        let mid = n / 2;
        let median = match n % 2 {
            1 => sorted[mid],
            _ => (sorted[mid - 1] + sorted[mid]) / 2.0,
        };
        Some(Stats {
            median,
            min: sorted[0],
            max: sorted[n - 1],
            runs: n,
        })
    }

    /// A single value that is not a measurement spread (a size, a budget).
    pub fn exact(value: f64) -> Stats {
        Stats {
            median: value,
            min: value,
            max: value,
            runs: 1,
        }
    }

    /// Applies `f` to every statistic (e.g. seconds -> MB/s, which swaps min and max).
    pub fn map(self, f: impl Fn(f64) -> f64) -> Stats {
        let (a, b) = (f(self.min), f(self.max));
        Stats {
            median: f(self.median),
            min: a.min(b),
            max: a.max(b),
            runs: self.runs,
        }
    }
}

/// What a row must show to meet its goal.
#[derive(Debug, Clone, PartialEq)]
pub enum Goal {
    /// `ours / anchor >= x` (throughput).
    RatioAtLeast(f64),
    /// `ours / anchor <= x` (time).
    RatioAtMost(f64),
    /// `ours < x` in the row's unit (memory growth).
    Below(f64),
    /// `ours <= x` in the row's unit (sizes, error counts).
    AtMost(f64),
    /// Reported for context; no goal.
    None,
}

impl Goal {
    pub fn text(&self, unit: &str) -> String {
        match self {
            Goal::RatioAtLeast(x) => format!(">= {x:?}x"),
            Goal::RatioAtMost(x) => format!("<= {x:?}x"),
            Goal::Below(x) => format!("< {x} {unit}"),
            Goal::AtMost(x) if *x == 0.0 => "0".to_owned(),
            Goal::AtMost(x) => format!("<= {x} {unit}"),
            Goal::None => "—".to_owned(),
        }
    }

    /// Whether `ours` (and its `ratio`) meet the goal; `None` when there is no goal.
    pub fn met(&self, ours: Option<f64>, ratio: Option<f64>) -> Option<bool> {
        match self {
            Goal::RatioAtLeast(x) => Some(ratio.is_some_and(|r| r >= *x)),
            Goal::RatioAtMost(x) => Some(ratio.is_some_and(|r| r <= *x)),
            Goal::Below(x) => Some(ours.is_some_and(|o| o < *x)),
            Goal::AtMost(x) => Some(ours.is_some_and(|o| o <= *x)),
            Goal::None => None,
        }
    }
}

/// One comparison: ours against an anchor.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The item of issue 7 (1..=5).
    pub item: u8,
    pub name: String,
    pub unit: String,
    /// `None`: not measured (see `note`).
    pub ours: Option<Stats>,
    pub anchor_name: String,
    pub anchor: Option<Stats>,
    pub goal: Goal,
    /// Why a value is missing, or how it was measured.
    pub note: String,
}

impl Row {
    pub fn new(item: u8, name: &str, unit: &str) -> Row {
        Row {
            item,
            name: name.to_owned(),
            unit: unit.to_owned(),
            ours: None,
            anchor_name: String::new(),
            anchor: None,
            goal: Goal::None,
            note: String::new(),
        }
    }

    pub fn ours(mut self, stats: Option<Stats>) -> Row {
        self.ours = stats;
        self
    }

    pub fn anchor(mut self, name: &str, stats: Option<Stats>) -> Row {
        self.anchor_name = name.to_owned();
        self.anchor = stats;
        self
    }

    pub fn goal(mut self, goal: Goal) -> Row {
        self.goal = goal;
        self
    }

    pub fn note(mut self, note: impl Into<String>) -> Row {
        self.note = note.into();
        self
    }

    /// `ours / anchor` of the medians; `None` when either is missing or the anchor is 0.
    pub fn ratio(&self) -> Option<f64> {
        let (ours, anchor) = (self.ours?.median, self.anchor?.median);
        (anchor != 0.0).then(|| ours / anchor)
    }

    pub fn met(&self) -> Option<bool> {
        self.goal.met(self.ours.map(|s| s.median), self.ratio())
    }

    /// The JSON form: exactly `name, unit, ours, anchor_name, anchor, ratio, goal, met`
    /// (medians; `null` where not measured or without a goal).
    pub fn to_json(&self) -> Value {
        json!({
            "name": self.name,
            "unit": self.unit,
            "ours": self.ours.map(|s| round(s.median)),
            "anchor_name": self.anchor_name,
            "anchor": self.anchor.map(|s| round(s.median)),
            "ratio": self.ratio().map(round),
            "goal": self.goal.text(&self.unit),
            "met": self.met(),
        })
    }
}

fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// A number with about three significant digits.
pub fn num(x: f64) -> String {
    let a = x.abs();
    if a >= 100.0 || a == 0.0 {
        format!("{x:.0}")
    } else if a >= 10.0 {
        format!("{x:.1}")
    } else if a >= 1.0 {
        format!("{x:.2}")
    } else {
        format!("{x:.3}")
    }
}

fn cell(stats: Option<Stats>, missing: &str) -> String {
    match stats {
        None => missing.to_owned(),
        Some(s) if s.runs <= 1 || s.min == s.max => num(s.median),
        Some(s) => format!("{} ({}–{})", num(s.median), num(s.min), num(s.max)),
    }
}

/// Runs behind the medians: ours, and the anchor's when it was measured a different number of
/// times (budgets and sizes are single values).
fn runs(row: &Row) -> String {
    match (row.ours, row.anchor) {
        (None, None) => "—".to_owned(),
        (None, Some(a)) => format!("—/{}", a.runs),
        (Some(o), Some(a)) if a.runs > 1 && a.runs != o.runs => format!("{}/{}", o.runs, a.runs),
        (Some(o), _) => o.runs.to_string(),
    }
}

/// Pipes would end a Markdown table cell.
fn escape(text: &str) -> String {
    text.replace('|', "\\|")
}

/// The table as Markdown (`median (min–max)` per cell).
pub fn markdown(rows: &[Row]) -> String {
    let mut out = String::from(
        "| # | comparison | unit | wharf: median (min–max) | anchor | anchor: median (min–max) | ratio | goal | met | runs |\n\
         | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n",
    );
    for row in rows {
        let met = match row.met() {
            Some(true) => "yes",
            Some(false) => "**no**",
            None => "—",
        };
        let ratio = row
            .ratio()
            .map(|r| format!("{}x", num(r)))
            .unwrap_or_else(|| "—".into());
        let name = match row.note.is_empty() {
            true => escape(&row.name),
            false => format!("{} <br><sub>{}</sub>", escape(&row.name), escape(&row.note)),
        };
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            row.item,
            name,
            row.unit,
            cell(row.ours, "not measured"),
            escape(&row.anchor_name),
            cell(row.anchor, "—"),
            ratio,
            row.goal.text(&row.unit),
            met,
            runs(row),
        ));
    }
    out
}

/// The JSON report: a list of rows.
pub fn json(rows: &[Row]) -> Value {
    Value::Array(rows.iter().map(Row::to_json).collect())
}

#[cfg(test)]
mod tests;
