//! How a build's facts read in a cell: its status in the theme's colour, "7/9, 5 cached",
//! durations as a person says them ("1m12s"), a short image id.

use berth_engine::model::build::{BuildRecord, BuildStatus, BuildStep, StepStatus};
use ratatui::text::Span;

use crate::dashboard::theme::Theme;

/// The status word, coloured: running as work under way, succeeded as fine, failed as an error.
pub fn status_span(s: BuildStatus, theme: &Theme) -> Span<'static> {
    match s {
        BuildStatus::Running => Span::styled("running", theme.fg(theme.warning)),
        BuildStatus::Succeeded => Span::styled("succeeded", theme.fg(theme.ok)),
        BuildStatus::Failed => Span::styled("failed", theme.error()),
        BuildStatus::Cancelled => Span::styled("cancelled", theme.muted()),
    }
}

/// A step's state as the detail lists it.
pub fn step_status_span(s: StepStatus, theme: &Theme) -> Span<'static> {
    match s {
        StepStatus::Pending => Span::styled("pending", theme.muted()),
        StepStatus::Running => Span::styled("running", theme.fg(theme.warning)),
        StepStatus::Cached => Span::styled("cached", theme.fg(theme.accent)),
        StepStatus::Done => Span::styled("ran", theme.fg(theme.ok)),
        StepStatus::Failed => Span::styled("failed", theme.error()),
    }
}

/// Steps finished of all steps, and how many came from the cache: "7/9, 5 cached".
pub fn steps_summary(steps: &[BuildStep]) -> String {
    let finished = steps
        .iter()
        .filter(|s| matches!(s.status, StepStatus::Cached | StepStatus::Done))
        .count();
    let cached = steps
        .iter()
        .filter(|s| s.status == StepStatus::Cached)
        .count();
    if cached > 0 {
        format!("{finished}/{}, {cached} cached", steps.len())
    } else {
        format!("{finished}/{}", steps.len())
    }
}

/// A duration as a person says it: "850ms", "4.2s", "1m12s", "2h03m".
pub fn duration(ms: u64) -> String {
    match ms {
        0..1_000 => format!("{ms}ms"),
        1_000..60_000 => {
            let tenths = ms / 100;
            format!("{}.{}s", tenths / 10, tenths % 10)
        }
        60_000..3_600_000 => format!("{}m{:02}s", ms / 60_000, (ms / 1_000) % 60),
        _ => format!("{}h{:02}m", ms / 3_600_000, (ms / 60_000) % 60),
    }
}

/// How long a build took; a running one, how long it has been running (muted: it grows).
pub fn duration_span(
    b: &BuildRecord,
    now: chrono::DateTime<chrono::Utc>,
    theme: &Theme,
) -> Span<'static> {
    if let Some(ms) = b.duration_ms {
        return Span::raw(duration(ms));
    }
    match chrono::DateTime::parse_from_rfc3339(&b.started) {
        Ok(t) if b.status == BuildStatus::Running => {
            let ms = (now - t.with_timezone(&chrono::Utc))
                .num_milliseconds()
                .max(0) as u64;
            // Whole seconds: the clock ticks once a second.
            Span::styled(duration(ms / 1_000 * 1_000), theme.muted())
        }
        _ => Span::styled("-", theme.muted()),
    }
}

/// `sha256:5d6f3e115659…` → `5d6f3e115659`, as docker shows image ids.
pub fn short_image(id: &str) -> String {
    let hex = id.strip_prefix("sha256:").unwrap_or(id);
    hex.chars().take(12).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(n: usize, status: StepStatus) -> BuildStep {
        BuildStep {
            number: n,
            stage: "0".into(),
            instruction: format!("RUN step {n}"),
            status,
            duration_ms: None,
            layer_size: None,
            image_id: None,
            log: String::new(),
        }
    }

    #[test]
    fn steps_and_durations_read_as_people_say_them() {
        use StepStatus::*;
        let steps = [
            step(1, Cached),
            step(2, Cached),
            step(3, Done),
            step(4, Failed),
            step(5, Pending),
        ];
        assert_eq!(steps_summary(&steps), "3/5, 2 cached");
        assert_eq!(steps_summary(&steps[2..]), "1/3");
        assert_eq!(steps_summary(&[]), "0/0");
        assert_eq!(duration(850), "850ms");
        assert_eq!(duration(4_250), "4.2s");
        assert_eq!(duration(72_000), "1m12s");
        assert_eq!(duration(7_380_000), "2h03m");
        assert_eq!(short_image("sha256:5d6f3e1156593adf8f02"), "5d6f3e115659");
        assert_eq!(short_image("abc"), "abc");
    }
}
