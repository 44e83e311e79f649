//! Review states (issue 15): a county reviewer's judgement of one revision
//! of a visit, and what several reviewers' judgements of one revision add
//! up to. No SQL, no words.

/// What a reviewer decided about a revision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ReviewState {
    Approved,
    Issues,
    Rejected,
}

impl ReviewState {
    pub const ALL: [ReviewState; 3] = [ReviewState::Approved, ReviewState::Issues, ReviewState::Rejected];

    /// The code stored in the database.
    pub fn code(self) -> &'static str {
        match self {
            ReviewState::Approved => "approved",
            ReviewState::Issues => "issues",
            ReviewState::Rejected => "rejected",
        }
    }

    pub fn parse(s: &str) -> Option<ReviewState> {
        ReviewState::ALL.into_iter().find(|x| x.code() == s)
    }
}

/// Where a visit's current revision stands: each reviewer's latest review
/// of it counts; two reviewers who disagree are `Disputed`, never resolved
/// silently in favour of one of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Standing {
    /// Nobody reviewed this revision (an earlier one may have been).
    Unreviewed,
    /// Every reviewer agrees.
    Agreed(ReviewState),
    /// Reviewers disagree: the states they gave, sorted.
    Disputed(Vec<ReviewState>),
}

impl Standing {
    /// From each reviewer's latest state on the revision.
    pub fn of(latest_per_reviewer: &[ReviewState]) -> Standing {
        let mut states = latest_per_reviewer.to_vec();
        states.sort();
        states.dedup();
        match states.as_slice() {
            [] => Standing::Unreviewed,
            [one] => Standing::Agreed(*one),
            _ => Standing::Disputed(states),
        }
    }

    /// Whether the revision counts in `--approved-only` figures: every
    /// reviewer approved it.
    pub fn approved(&self) -> bool {
        *self == Standing::Agreed(ReviewState::Approved)
    }

    /// Whether the revision goes back to its crew: some reviewer found
    /// issues or rejected it.
    pub fn returned(&self) -> bool {
        match self {
            Standing::Unreviewed => false,
            Standing::Agreed(s) => *s != ReviewState::Approved,
            Standing::Disputed(_) => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ReviewState::*;

    #[test]
    fn disagreeing_reviewers_are_a_dispute_that_is_neither_approved_nor_hidden() {
        assert_eq!(Standing::of(&[]), Standing::Unreviewed);
        assert!(Standing::of(&[Approved, Approved]).approved());
        let d = Standing::of(&[Rejected, Approved]);
        assert_eq!(d, Standing::Disputed(vec![Approved, Rejected]));
        assert!(!d.approved() && d.returned());
        assert!(Standing::of(&[Issues]).returned());
        assert!(!Standing::of(&[Approved]).returned());
    }

    #[test]
    fn codes_read_back() {
        for s in ReviewState::ALL {
            assert_eq!(ReviewState::parse(s.code()), Some(s));
        }
        assert_eq!(ReviewState::parse("ok"), None);
    }
}
