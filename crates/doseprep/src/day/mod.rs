//! A preparation day: the randomization list, the day's orders and the lots
//! on hand, to every bag of the day.
//!
//! * The arm of each order comes from the randomization list, never typed.
//! * Bags are grouped into thaw sessions, greedily in order of infusion time:
//!   a session thaws `site.preparation_time` before its first infusion and
//!   takes every later bag whose infusion ends within the thaw window.
//! * Containers are shared out across the day. Which orders the stock can
//!   serve is decided as if every bag were active (a placebo holds its
//!   twin's share), so a shortage delays participants whatever their arm;
//!   only active bags thaw and draw, and within a session they share
//!   thawed containers (four 5.8 mL draws take three 10 mL containers).
//! * Each planned bag gets a bag id from random bits the caller supplies.

mod documents;
pub use documents::{DayText, SUMMARY_COLUMNS, UNBLINDED_DOCUMENT};
mod orders;
mod plan;

pub use crate::randomization::Randomization;
pub use orders::{DayOrder, DayRow};
pub use plan::{
    plan_day, plan_day_after, DayPlan, LedgerMark, PlanRow, PlannedBag, RecordedBag, ThawSession,
};
