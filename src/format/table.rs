//! Column alignment like Go's text/tabwriter as docker configures it (minwidth 10, padding 3,
//! padchar ' '): tab-terminated cells are padded; the last cell of a line is not.

pub struct TabWriter {
    min_width: usize,
    padding: usize,
}

impl Default for TabWriter {
    fn default() -> Self {
        TabWriter {
            min_width: 10,
            padding: 3,
        }
    }
}

fn width(s: &str) -> usize {
    s.chars().count()
}

impl TabWriter {
    /// Other settings than docker's table: docker compose's `ls`/`images` (min width 20) and
    /// `top` (min width 4, padding 2).
    pub fn new(min_width: usize, padding: usize) -> TabWriter {
        TabWriter { min_width, padding }
    }

    /// Align `text` (lines separated by '\n', cells by '\t').
    pub fn format(&self, text: &str) -> String {
        let lines: Vec<Vec<&str>> = text.split('\n').map(|l| l.split('\t').collect()).collect();
        // Column widths over every line that has a tab-terminated cell in that column.
        let mut widths: Vec<usize> = Vec::new();
        for cells in &lines {
            for (i, cell) in cells.iter().enumerate().take(cells.len().saturating_sub(1)) {
                let w = (width(cell) + self.padding).max(self.min_width);
                if widths.len() <= i {
                    widths.push(w);
                } else {
                    widths[i] = widths[i].max(w);
                }
            }
        }
        let mut out = String::new();
        for (n, cells) in lines.iter().enumerate() {
            if n > 0 {
                out.push('\n');
            }
            let last = cells.len() - 1;
            for (i, cell) in cells.iter().enumerate() {
                out.push_str(cell);
                if i < last {
                    out.push_str(&" ".repeat(widths[i] - width(cell)));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligns_like_docker() {
        let t = TabWriter::default().format("CONTAINER ID\tNAMES\nabc\tweb\n");
        assert_eq!(t, "CONTAINER ID   NAMES\nabc            web\n");
    }

    #[test]
    fn min_width_applies_and_runes_count_once() {
        let t = TabWriter::default().format("A\tB\n\"sh…\"\tx");
        assert_eq!(t, "A         B\n\"sh…\"     x");
    }
}
