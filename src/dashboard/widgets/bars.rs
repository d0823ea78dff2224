//! Text-cell graphics for table rows: a percentage bar and a sparkline.

const TICKS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
const EIGHTHS: [char; 8] = [' ', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];

/// A bar `width` cells wide filled to `fraction` (0..1), with eighth-cell resolution.
pub fn bar(fraction: f64, width: usize) -> String {
    let f = if fraction.is_finite() {
        fraction.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let eighths = (f * width as f64 * 8.0).round() as usize;
    let full = eighths / 8;
    let mut s: String = "█".repeat(full);
    if full < width {
        s.push(EIGHTHS[eighths % 8]);
        s.push_str(&" ".repeat(width - full - 1));
    }
    s
}

/// The last `width` values as a sparkline, scaled to `max` (or the largest value when `max` is
/// 0), right-aligned so the newest value is always at the right edge.
pub fn sparkline(values: &[f64], width: usize, max: f64) -> String {
    let vals = &values[values.len().saturating_sub(width)..];
    let top = if max > 0.0 {
        max
    } else {
        vals.iter().copied().fold(0.0, f64::max)
    };
    let mut s = " ".repeat(width - vals.len());
    for v in vals {
        let i = if top > 0.0 && *v > 0.0 {
            ((v / top) * 7.0).round().clamp(0.0, 7.0) as usize
        } else {
            0
        };
        s.push(TICKS[i]);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_and_sparklines_have_their_width() {
        assert_eq!(bar(0.0, 4), "    ");
        assert_eq!(bar(1.0, 4), "████");
        assert_eq!(bar(0.5, 4), "██  ");
        assert_eq!(bar(0.0625, 4), "▎   ");
        assert_eq!(bar(f64::NAN, 3).chars().count(), 3);
        assert_eq!(sparkline(&[0.0, 50.0, 100.0], 5, 100.0), "  ▁▅█");
        assert_eq!(sparkline(&[1.0; 20], 4, 0.0), "████");
    }
}
