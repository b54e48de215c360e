//! The problems of a refused input: the first [`MAX_PROBLEMS`] in full for
//! the error message, and a count of all of them.

use std::fmt::Display;

/// How many problems are kept for the error message (all are counted).
pub const MAX_PROBLEMS: usize = 20;

/// The problems found so far: the first [`MAX_PROBLEMS`], and a count.
#[derive(Debug)]
pub struct Problems<P> {
    /// The first ones, in the order found.
    pub list: Vec<P>,
    /// How many in all.
    pub total: u64,
}

impl<P> Default for Problems<P> {
    fn default() -> Self {
        Self {
            list: Vec::new(),
            total: 0,
        }
    }
}

impl<P> Problems<P> {
    /// Counts a problem, and keeps it if fewer than [`MAX_PROBLEMS`] are kept.
    pub fn add(&mut self, problem: P) {
        self.total += 1;
        if self.list.len() < MAX_PROBLEMS {
            self.list.push(problem);
        }
    }

    /// Whether none was found.
    pub fn is_empty(&self) -> bool {
        self.total == 0
    }
}

/// The problems of a refused input, for its error message: the first few in
/// full, then how many more.
pub fn describe_problems<P: Display>(problems: &[P], total: u64) -> String {
    let mut text = problems
        .iter()
        .map(P::to_string)
        .collect::<Vec<_>>()
        .join("; ");
    let shown = problems.len() as u64;
    if total > shown {
        text.push_str(&format!(" (and {} more)", total - shown));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_read_as_a_list_with_the_rest_counted() {
        assert_eq!(describe_problems(&["line 3: bad"], 1), "line 3: bad");
        assert_eq!(
            describe_problems(&["line 3: bad", "line 9: bad"], 5),
            "line 3: bad; line 9: bad (and 3 more)"
        );
    }

    #[test]
    fn only_the_first_problems_are_kept_but_all_are_counted() {
        let mut problems = Problems::default();
        assert!(problems.is_empty());
        for i in 0..MAX_PROBLEMS + 3 {
            problems.add(i);
        }
        assert_eq!(problems.total, MAX_PROBLEMS as u64 + 3);
        assert_eq!(problems.list, (0..MAX_PROBLEMS).collect::<Vec<_>>());
    }
}
