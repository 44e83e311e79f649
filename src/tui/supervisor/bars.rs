//! Bars and gauge ratios for the dashboard, safe for any rate.

/// A ratio made safe for gauges: NaN and None become 0, the rest is clamped to [0, 1].
pub fn gauge_ratio(r: Option<f64>) -> f64 {
    match r {
        Some(v) if v.is_finite() => v.clamp(0.0, 1.0),
        Some(v) if v == f64::INFINITY => 1.0,
        _ => 0.0,
    }
}

/// A bar of `cells` columns filled to `ratio`, with a tick at `target` where
/// the bar is not filled, so the target shows without colour.
pub fn bar(ratio: Option<f64>, target: f64, cells: usize) -> String {
    const EIGHTHS: [char; 8] = [' ', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];
    let filled = gauge_ratio(ratio) * cells as f64;
    let tick = ((gauge_ratio(Some(target)) * cells as f64) as usize).min(cells.saturating_sub(1));
    (0..cells)
        .map(|i| {
            let part = filled - i as f64;
            if part >= 1.0 {
                '█'
            } else if part > 0.0 && EIGHTHS[(part * 8.0) as usize] != ' ' {
                EIGHTHS[(part * 8.0) as usize]
            } else if i == tick {
                '┆'
            } else {
                '·'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gauge_ratios_are_clamped() {
        assert_eq!(gauge_ratio(Some(f64::NAN)), 0.0);
        assert_eq!(gauge_ratio(None), 0.0);
        assert_eq!(gauge_ratio(Some(1.7)), 1.0);
        assert_eq!(gauge_ratio(Some(-0.2)), 0.0);
        assert_eq!(gauge_ratio(Some(0.25)), 0.25);
    }

    #[test]
    fn bars_fill_and_mark_the_target() {
        assert_eq!(bar(Some(0.5), 0.9, 4), "██·┆");
        assert_eq!(bar(Some(1.0), 0.9, 4), "████");
        assert_eq!(bar(None, 0.0, 3), "┆··");
        assert_eq!(bar(Some(f64::NAN), 0.5, 2), "·┆");
    }
}
